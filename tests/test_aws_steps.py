"""The deploy steps that a moto server cannot show, with botocore's Stubber.

moto 5.2.5 has no glue.update_job or glue.update_trigger, cannot answer a throttling error and
cannot hold a job run in RUNNING for a test that polls it; these paths are stubbed here, request
by request, with the exact parameters AWS would receive.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from scripts.aws import glue, waiting
from scripts.aws.clients import ThrottlingRetryClient, call_with_throttling_retry
from scripts.aws.dry_run import DryRun
from scripts.aws.errors import JobRunFailedError, WaitTimeoutError
from scripts.deploy import DeployConfig, conf_argument, job_definition, trigger_definitions
from scripts import pipeline

ROLE = "arn:aws:iam::123456789012:role/stedi"


@pytest.fixture
def glue_client():
    client = boto3.client("glue", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_a_changed_job_is_updated_with_the_whole_definition(glue_client):
    client, stubber = glue_client
    job = pipeline.job("step_trainer_trusted")
    definition = job_definition(job, DeployConfig("stedi-demo"), ROLE, "us-east-1")
    existing = {**definition, "Name": job.name, "NumberOfWorkers": 10}
    stubber.add_response("get_job", {"Job": existing}, {"JobName": job.name})
    stubber.add_response("update_job", {"JobName": job.name},
                         {"JobName": job.name, "JobUpdate": definition})
    assert glue.ensure_job(client, job.name, definition) == "updated"


@pytest.mark.parametrize("version, conf", [
    ("5.0", None),
    ("5.1", "spark.hadoop.fs.s3a.endpoint.region=eu-west-1"),
    ("6.0", "spark.hadoop.fs.s3a.endpoint.region=eu-west-1"),
    ("6.1", "spark.hadoop.fs.s3a.endpoint.region=eu-west-1"),
])
def test_jobs_name_their_glue_version_and_from_5_1_the_s3a_region(version, conf):
    config = DeployConfig("stedi-demo", glue_version=version)
    definition = job_definition(pipeline.JOBS[0], config, ROLE, "eu-west-1")
    assert definition["GlueVersion"] == version
    assert definition["DefaultArguments"].get("--conf") == conf


def test_further_spark_settings_chain_in_the_one_conf_argument():
    assert conf_argument({"a.b": "1", "c.d": "x y"}) == {"--conf": "a.b=1 --conf c.d=x y"}
    assert conf_argument({}) == {}


def test_a_removed_default_argument_counts_as_a_change(glue_client):
    client, stubber = glue_client
    job = pipeline.job("step_trainer_trusted")
    definition = job_definition(job, DeployConfig("stedi-demo"), ROLE, "us-east-1")
    existing = {**definition, "DefaultArguments": {**definition["DefaultArguments"],
                                                   "--stale": "1"}}
    stubber.add_response("get_job", {"Job": existing}, {"JobName": job.name})
    stubber.add_response("update_job", {"JobName": job.name},
                         {"JobName": job.name, "JobUpdate": definition})
    assert glue.ensure_job(client, job.name, definition) == "updated"


def test_an_unchanged_job_is_left_alone(glue_client):
    client, stubber = glue_client
    job = pipeline.job("step_trainer_trusted")
    definition = job_definition(job, DeployConfig("stedi-demo"), ROLE, "us-east-1")
    stubber.add_response("get_job", {"Job": {**definition, "Name": job.name}},
                         {"JobName": job.name})
    assert glue.ensure_job(client, job.name, definition) == "unchanged"


def test_a_changed_trigger_is_updated(glue_client):
    client, stubber = glue_client
    trigger = trigger_definitions(DeployConfig("stedi-demo"))[1]
    described = {k: v for k, v in trigger.items() if k != "StartOnCreation"}  # AWS's answer
    stale = {**described, "Actions": [{"JobName": "something_else"}]}
    stubber.add_response("get_trigger", {"Trigger": stale}, {"Name": trigger["Name"]})
    update = {"Name": trigger["Name"], "Description": trigger["Description"],
              "Actions": trigger["Actions"], "Predicate": trigger["Predicate"]}
    stubber.add_response("update_trigger", {"Trigger": described},
                         {"Name": trigger["Name"], "TriggerUpdate": update})
    assert glue.ensure_trigger(client, trigger) == "updated"


def test_a_trigger_that_changes_type_is_replaced(glue_client):
    client, stubber = glue_client
    on_demand = trigger_definitions(DeployConfig("stedi-demo"))[0]
    scheduled = trigger_definitions(DeployConfig("stedi-demo", schedule="cron(0 3 * * ? *)"))[0]
    stubber.add_response("get_trigger", {"Trigger": on_demand}, {"Name": on_demand["Name"]})
    stubber.add_response("delete_trigger", {"Name": on_demand["Name"]},
                         {"Name": on_demand["Name"]})
    stubber.add_response("create_trigger", {"Name": on_demand["Name"]}, scheduled)
    assert glue.ensure_trigger(client, scheduled) == "replaced"


def test_job_run_states_are_reported_until_it_succeeds(glue_client):
    client, stubber = glue_client
    for state in ("STARTING", "RUNNING", "RUNNING", "SUCCEEDED"):
        stubber.add_response("get_job_run", {"JobRun": {"JobRunState": state}},
                             {"JobName": "j", "RunId": "jr_1"})
    seen = []
    run = glue.wait_for_job_run(client, "j", "jr_1", timeout_seconds=60,
                                on_state=seen.append, first_delay=0.001)
    assert (run["JobRunState"], seen) == ("SUCCEEDED", ["STARTING", "RUNNING", "SUCCEEDED"])


def test_a_failed_job_run_raises_with_glues_message_and_the_logs(glue_client):
    client, stubber = glue_client
    stubber.add_response("get_job_run", {"JobRun": {
        "JobRunState": "FAILED", "ErrorMessage": "Out of memory",
        "LogGroupName": "/aws-glue/jobs"}}, {"JobName": "j", "RunId": "jr_1"})
    with pytest.raises(JobRunFailedError, match=r"Glue job j FAILED: Out of memory \(logs: "
                                                r"CloudWatch log group /aws-glue/jobs/error, "
                                                r"stream jr_1\)"):
        glue.wait_for_job_run(client, "j", "jr_1", timeout_seconds=60, first_delay=0.001)


def test_only_throttling_is_retried(glue_client):
    client, stubber = glue_client
    stubber.add_client_error("get_database", "ThrottlingException")
    stubber.add_response("get_database", {"Database": {"Name": "stedi"}}, {"Name": "stedi"})
    stubber.add_client_error("get_database", "AccessDeniedException")
    retrying = ThrottlingRetryClient(client)
    assert retrying.get_database(Name="stedi")["Database"]["Name"] == "stedi"
    with pytest.raises(client.exceptions.ClientError, match="AccessDenied"):
        retrying.get_database(Name="stedi")


def test_throttling_retry_gives_up_after_its_attempts(glue_client):
    client, stubber = glue_client
    for _ in range(2):
        stubber.add_client_error("get_database", "ThrottlingException")
    with pytest.raises(client.exceptions.ClientError, match="Throttling"):
        call_with_throttling_retry(client.get_database, Name="stedi", attempts=2)


def test_waiting_gives_up_at_the_deadline():
    with pytest.raises(WaitTimeoutError, match="query 7 did not finish within 1 s"):
        waiting.wait_for(lambda: "RUNNING", lambda state: state == "SUCCEEDED", "query 7",
                         timeout_seconds=1, first_delay=0.4, sleep=lambda _: None)


def test_dry_run_records_validated_calls_and_answers_reads_with_not_found():
    plan = DryRun()
    client = boto3.client("glue", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    plan.attach(client)
    assert glue.ensure_database(client, "stedi", "lake") is True
    assert [call.describe() for call in plan.calls] == [
        "glue.GetDatabase(Name='stedi')",
        "glue.CreateDatabase(DatabaseInput={'Name': 'stedi', 'Description': 'lake'})"]


def test_per_job_workers_override_the_default():
    from scripts.deploy import job_workers

    config = DeployConfig("stedi-demo", worker_type="G.2X", workers=3,
                          job_workers=job_workers("machine_learning_curated=10"))
    definitions = {j.name: job_definition(j, config, ROLE, "us-east-1") for j in pipeline.JOBS}
    sizes = {name: (d["WorkerType"], d["NumberOfWorkers"]) for name, d in definitions.items()}
    assert sizes["machine_learning_curated"] == ("G.2X", 10)
    assert sizes["customer_landing_to_trusted"] == ("G.2X", 3)


def test_billed_dpu_hours_count_a_minute_at_least_per_run():
    from scripts.deploy import dpu_hours

    config = DeployConfig("stedi-demo", job_workers=(("machine_learning_curated", 10),))
    seconds = {"customer_landing_to_trusted": 30, "machine_learning_curated": 360}
    assert dpu_hours(config, seconds) == pytest.approx((60 * 2 + 360 * 10) / 3600)
