"""Local implementation of the subset of AWS Glue's `awsglue` API that the STEDI jobs use, on
plain PySpark.

The local runner puts scripts/local_glue first on sys.path, so the unchanged Glue scripts import
this
package as `awsglue`. Names and signatures follow AWS's package (tests/test_glue_signatures.py
checks
them); what is not implemented is absent or refused with an error from `awsglue.local_errors`.
"""

from awsglue.dynamicframe import DynamicFrame

__all__ = ["DynamicFrame"]
