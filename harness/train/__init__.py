"""Training: a RunConfig and a run directory in, checkpoints and metrics.jsonl out.
trainer.py  setup (data, layout, model of the config's family) and the loop, which delegates to:
schedule.py optimiser, learning rate, EMA     state.py  resumable training state (save/restore)
metrics.py  log-window summaries, sinks, environment   probe.py  step timing and `train --dry-run` plans
Held-out evaluation during training is harness.infer's evaluate_held_out on the model in memory."""
