"""Local implementation of AWS Glue Data Quality's ``awsgluedq`` for PySpark: the
``EvaluateDataQuality`` transform the scripts call, evaluating the DQDL subset of ``_dqdl``.

AWS publishes no Python package of awsgluedq (it exists inside the Glue runtime only, and AWS's
local tooling does not offer it), so the names, the signature and the result's shape follow
AWS's documentation: ``EvaluateDataQuality.apply(frame, ruleset, publishing_options)`` returns a
DynamicFrame of Rule, Outcome ("Passed" or "Failed"), FailureReason and EvaluatedMetrics.
"""
