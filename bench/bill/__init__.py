"""The bill: what a deployment costs a month, item by item, from its template and its measured runs.

modes.py declares the deployments; prices.py every unit price and its page; templates.py counts what a
template bills; runs.py and capture.py measure the real handler's runs; usage.py turns both into a
month's quantities and model.py into items and totals; render.py writes the report's section and the
cost page's (docs/cost.md); measure.py and snapshot.py read and keep the inputs.
"""
