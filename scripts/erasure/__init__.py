"""Forgetting a customer: which landing records are theirs (landing_records.py), the erasure
whatever the lake (forgetting.py), and the two lakes, a folder (local_lake.py) and a deployed
bucket (bucket_lake.py). Above scripts/aws and scripts/lake; python -m scripts.forget is the
command."""
