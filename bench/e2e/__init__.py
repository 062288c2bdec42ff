"""The end-to-end benchmark: `python -m bench.e2e` (__main__.py), its hub (synthetic.py), its probes (probes.py)."""
