"""Translation: documents keep their structure, only their text goes through a pluggable engine."""
