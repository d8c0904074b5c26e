"""Thin, idempotent wrappers around the AWS services the deploy tool uses: one module per service.

Every function takes the boto3 client it needs (made by ``clients.AwsClients``), does one
create-or-update step, and turns the specific AWS errors it expects into the named errors of
``errors``; anything else propagates unchanged.
"""
