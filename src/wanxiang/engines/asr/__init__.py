"""SpeechRecognition: audio decoded with PyAV, recognised by a pluggable engine per EngineModelType."""
