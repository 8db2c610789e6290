"""The `trm-eval` command surface: one module per README section; a command parses, calls one library function
and renders. `main.py` holds the root group and registers the rest: `submission.py` datasets validate score vote
baselines predictions; `train.py` data train; `evaluate.py` predict evaluate; `checkpoint.py` checkpoint;
`demo.py` demo; `kaggle.py` kaggle; `report.py` report compare. `tables.py` renders results (tables, progress
bar) and `common.py` holds the shared console and task-set loading; here only `__main__.py` imports `main.py`."""
