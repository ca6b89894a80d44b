"""Developers' tools, run from the repository root and never imported by the dashboard:
`python -m tools.demo_data` (the illustrative series) and `python -m tools.trafford_to_fingertips`
(data/fingertips/ from the Trafford Data Lab files)."""
