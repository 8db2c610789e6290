"""Wiring, I/O and the command line, in stage folders: core (foundation), data (layouts, encoding, views,
batches), predictions (file forms of Predictions), train, infer, kaggle, cli; config.py (the run-config
schema), pipeline.py (predictions -> vote -> submission -> score), baselines.py, demo.py."""
