"""``hubci push``: the push plan (plan.py), the pipeline (run.py), output (render.py)."""
