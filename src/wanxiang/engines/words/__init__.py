"""WordsGeneralize: Chinese/English word segmentation with POS tags and named entities (jieba)."""
