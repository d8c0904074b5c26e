"""The deploy steps that a moto server cannot show, with botocore's Stubber.

moto 5.2.5 has no glue.update_job, glue.update_trigger or athena.update_work_group, keeps no
trigger in DELETING, cannot hold a workflow's job run in RUNNING for a test that polls it, never
answers a workflow run that ends in ERROR at once, answers every lifecycle configuration with
the same TransitionDefaultMinimumObjectSize whatever was put, and never refuses a permission;
these paths are stubbed here, request by request, with the exact parameters AWS would receive.
moto checks no EventBridge pattern either: the alerts rule's pattern is checked here against
the events AWS documents.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError, NoCredentialsError
from botocore.stub import Stubber
from moto.events.models import EventPattern

from scripts.aws import athena, events, glue, s3, sns, waiting
from scripts.aws.clients import CLIENT_CONFIG, AwsClients, AwsTarget
from scripts.aws.deploy_config import (
    EXPIRING_PREFIXES_DAYS,
    DeployConfig,
    conf_argument,
    job_definition,
    trigger_definitions,
)
from scripts.aws.dry_run import DryRun
from scripts.aws.errors import (
    AwsCallError,
    ForeignResourceError,
    JobRunFailedError,
    MissingCredentialsError,
    TargetRefusedError,
    WaitTimeoutError,
    WorkflowBusyError,
)
from scripts.lake import pipeline
from scripts.local_glue.glue_versions import GLUE_VERSIONS

ROLE = "arn:aws:iam::123456789012:role/stedi"
KEY_ARN = "arn:aws:ssm:us-east-1:123456789012:parameter/stedi-lakehouse/stedi/device-id-key"


def stubbed_client(service: str):
    """A client of ``service`` whose every answer the test gives (botocore's Stubber), and that
    fails the test if an answer it was given goes unasked."""
    client = boto3.client(service, region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def glue_client():
    yield from stubbed_client("glue")


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


@pytest.mark.parametrize("version", GLUE_VERSIONS)
def test_no_version_deploy_offers_is_sent_continuous_logging_a_4_0_feature(version):
    """AWS documents --enable-continuous-cloudwatch-log for Glue 4.0 and earlier; from 5.0 every
    job logs in real time. Deploy offers 5.0 and later only, so no job is sent it."""
    config = DeployConfig("stedi-demo", glue_version=version)
    for job in pipeline.JOBS:
        arguments = job_definition(job, config, ROLE, "eu-west-1", KEY_ARN)["DefaultArguments"]
        assert sorted(arguments) == sorted(
            ["--lake_root", "--database", "--consent_mode", "--ml_match", "--job-language",
             "--TempDir", "--enable-metrics"]
            + (["--conf"] if version != "5.0" else [])
            + (["--device_key"] if job.reads_device_key else []))


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
    stubber.add_client_error("get_trigger", "EntityNotFoundException",
                             expected_params={"Name": on_demand["Name"]})
    stubber.add_response("create_trigger", {"Name": on_demand["Name"]}, scheduled)
    assert glue.ensure_trigger(client, scheduled) == "replaced"


def workflow_run(*jobs: tuple[str, dict], status: str = "RUNNING") -> dict:
    return {"Run": {"Name": "wf", "WorkflowRunId": "wr_1", "Status": status, "Graph": {"Nodes": [
        {"Type": "JOB", "Name": name, "JobDetails": {"JobRuns": [run]}} for name, run in jobs]}}}


def poll_of_workflow_run() -> dict:
    return {"Name": "wf", "RunId": "wr_1", "IncludeGraph": True}


def test_a_workflow_run_is_followed_job_by_job_until_every_job_succeeded(glue_client):
    client, stubber = glue_client
    first = ("first", {"Id": "jr_1", "JobRunState": "RUNNING"})
    first_done = ("first", {"Id": "jr_1", "JobRunState": "SUCCEEDED", "ExecutionTime": 61})
    second = ("second", {"Id": "jr_2", "JobRunState": "SUCCEEDED", "ExecutionTime": 30})
    for answer in (workflow_run(first), workflow_run(first_done),
                   workflow_run(first_done, second)):
        stubber.add_response("get_workflow_run", answer, poll_of_workflow_run())
    seen = []
    runs = glue.follow_workflow_run(client, "wf", "wr_1", ["first", "second"],
                                    timeout_seconds=60, first_delay=0.001,
                                    on_state=lambda job, state: seen.append((job, state)))
    assert seen == [("first", "RUNNING"), ("first", "SUCCEEDED"), ("second", "SUCCEEDED")]
    assert {name: run["ExecutionTime"] for name, run in runs.items()} == {"first": 61,
                                                                           "second": 30}


def test_a_failed_job_of_the_workflow_raises_with_glues_message_and_its_log_streams(
        glue_client):
    client, stubber = glue_client
    failed = ("first", {"Id": "jr_1", "JobRunState": "FAILED", "ErrorMessage": "Out of memory",
                        "LogGroupName": "/aws-glue/jobs"})
    stubber.add_response("get_workflow_run", workflow_run(failed), poll_of_workflow_run())
    with pytest.raises(JobRunFailedError, match=r"Glue job first FAILED: Out of memory \(logs: "
                                                r"CloudWatch log group /aws-glue/jobs/error, "
                                                r"streams beginning with jr_1\)"):
        glue.follow_workflow_run(client, "wf", "wr_1", ["first", "second"],
                                 timeout_seconds=60, first_delay=0.001)


def test_a_workflow_run_that_ends_without_running_every_job_is_an_error(glue_client):
    client, stubber = glue_client
    done = ("first", {"Id": "jr_1", "JobRunState": "SUCCEEDED"})
    stubber.add_response("get_workflow_run", workflow_run(done, status="COMPLETED"),
                         poll_of_workflow_run())
    with pytest.raises(JobRunFailedError, match="ended COMPLETED without running second"):
        glue.follow_workflow_run(client, "wf", "wr_1", ["first", "second"],
                                 timeout_seconds=60, first_delay=0.001)


def test_a_replaced_trigger_is_created_once_its_namesake_has_left_deleting(glue_client):
    client, stubber = glue_client
    trigger = trigger_definitions(DeployConfig("stedi-demo", schedule="cron(0 3 * * ? *)"))[0]
    name = {"Name": trigger["Name"]}
    described = {k: v for k, v in trigger.items() if k != "StartOnCreation"}
    stubber.add_response("get_trigger", {"Trigger": {**described, "State": "DELETING"}}, name)
    stubber.add_client_error("get_trigger", "EntityNotFoundException", expected_params=name)
    stubber.add_client_error("create_trigger", "ConcurrentModificationException",
                             expected_params=trigger)
    stubber.add_client_error("get_trigger", "EntityNotFoundException", expected_params=name)
    stubber.add_response("create_trigger", name, trigger)
    glue.recreate_trigger(client, trigger, first_delay=0.001, sleep=lambda _: None)


def test_a_trigger_stuck_in_deleting_is_a_clear_timeout(glue_client):
    client, stubber = glue_client
    trigger = trigger_definitions(DeployConfig("stedi-demo"))[0]
    described = {k: v for k, v in trigger.items() if k != "StartOnCreation"}
    stubber.add_response("get_trigger", {"Trigger": {**described, "State": "DELETING"}},
                         {"Name": trigger["Name"]})
    with pytest.raises(WaitTimeoutError, match="still being deleted"):
        glue.recreate_trigger(client, trigger, timeout_seconds=0, sleep=lambda _: None)


# --- retries and one-line errors ------------------------------------------------------------------

def test_every_client_retries_in_botocores_standard_mode():
    aws = AwsClients(AwsTarget(region="eu-west-1"))
    for service in ("s3", "glue", "iam", "athena", "sts", "ec2"):
        retries = aws(service).meta.config.retries
        assert retries["mode"] == "standard" and retries["total_max_attempts"] == 10, service
    assert CLIENT_CONFIG.retries["mode"] == "standard"


def stubbed_aws(service: str) -> tuple[AwsClients, Stubber]:
    aws = AwsClients(AwsTarget(region="us-east-1"))
    aws.session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x",
                                region_name="us-east-1")
    stubber = Stubber(aws(service))
    stubber.activate()
    return aws, stubber


def test_access_denied_names_the_service_call_activity_and_missing_permission():
    aws, stubber = stubbed_aws("glue")
    stubber.add_client_error(
        "create_job", "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: iam:PassRole "
        "on resource: arn:aws:iam::123456789012:role/AWSGlueServiceRole-stedi")
    with pytest.raises(AwsCallError) as raised, aws.doing("creating Glue job j"):
        aws("glue").create_job(Name="j", Role="r", Command={"Name": "glueetl"})
    line = str(raised.value)
    assert "\n" not in line
    assert line.startswith("AWS glue CreateJob AccessDeniedException while creating Glue job j: "
                           "User: arn:aws:iam::123456789012:user/dev is not authorized")
    assert "(missing permission: iam:PassRole;" in line


def test_access_denied_without_the_action_in_its_message_names_the_call_as_the_action():
    aws, stubber = stubbed_aws("athena")
    stubber.add_client_error("start_query_execution", "AccessDeniedException", "denied")
    with pytest.raises(AwsCallError, match=r"missing permission: athena:StartQueryExecution"), \
            aws.doing("creating table t"):
        aws("athena").start_query_execution(QueryString="select 1")


def test_other_aws_errors_keep_their_code_and_message_on_one_line():
    aws, stubber = stubbed_aws("glue")
    stubber.add_client_error("start_workflow_run", "ConcurrentRunsExceededException",
                             "Workflow wf already\nrunning")
    with pytest.raises(AwsCallError) as raised, aws.doing("starting Glue workflow wf"):
        aws("glue").start_workflow_run(Name="wf")
    assert str(raised.value) == ("AWS glue StartWorkflowRun ConcurrentRunsExceededException while "
                                 "starting Glue workflow wf: Workflow wf already running")


def test_a_connection_failure_and_missing_credentials_are_one_line_too():
    aws = AwsClients(AwsTarget(region="us-east-1"))
    aws.last_call = ("s3", "PutObject")
    with pytest.raises(AwsCallError, match=r"^AWS s3 PutObject failed while uploading x: "
                                           r"Could not connect"), aws.doing("uploading x"):
        raise EndpointConnectionError(endpoint_url="https://s3.amazonaws.com")
    with pytest.raises(MissingCredentialsError, match="no AWS credentials"), aws.doing("x"):
        raise NoCredentialsError()


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
    definitions = {j.name: job_definition(j, config, ROLE, "us-east-1", KEY_ARN)
                   for j in pipeline.JOBS}
    sizes = {name: (d["WorkerType"], d["NumberOfWorkers"]) for name, d in definitions.items()}
    assert sizes["machine_learning_curated"] == ("G.2X", 10)
    assert sizes["customer_landing_to_trusted"] == ("G.2X", 3)


def test_only_the_ml_job_is_told_where_the_device_key_is_and_it_must_be_told():
    config = DeployConfig("stedi-demo")
    arguments = {j.name: job_definition(j, config, ROLE, "us-east-1", KEY_ARN)["DefaultArguments"]
                 for j in pipeline.JOBS}
    assert {name: a["--device_key"] for name, a in arguments.items() if "--device_key" in a} == {
        "machine_learning_curated": f"ssm:{KEY_ARN}"}
    with pytest.raises(ValueError, match="needs the device key"):
        job_definition(pipeline.job("machine_learning_curated"), config, ROLE, "us-east-1")


def test_billed_dpu_hours_count_a_minute_at_least_per_run():
    from scripts.aws.deploy_config import dpu_hours

    config = DeployConfig("stedi-demo", job_workers=(("machine_learning_curated", 10),))
    seconds = {"customer_landing_to_trusted": 30, "machine_learning_curated": 360}
    assert dpu_hours(config, seconds) == pytest.approx((60 * 2 + 360 * 10) / 3600)


def test_the_latest_run_of_a_job_in_the_graph_is_the_one_that_counts():
    from datetime import datetime, timezone

    early = {"Id": "jr_1", "JobRunState": "FAILED",
             "StartedOn": datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)}
    late = {"Id": "jr_2", "JobRunState": "SUCCEEDED",
            "StartedOn": datetime(2026, 12, 1, 3, 5, tzinfo=timezone.utc)}
    not_started = {"Id": "jr_0", "JobRunState": "WAITING"}
    graph = {"Graph": {"Nodes": [{"Type": "JOB", "Name": "j",
                                  "JobDetails": {"JobRuns": [not_started, late, early]}}]}}
    assert glue.job_runs_of(graph) == {"j": late}


# --- a workflow run already in progress ----------------------------------------------------------

def running(run_id: str, minute: int) -> dict:
    from datetime import datetime, timezone

    return {"Name": "wf", "WorkflowRunId": run_id, "Status": "RUNNING",
            "StartedOn": datetime(2026, 12, 1, 3, minute, tzinfo=timezone.utc)}


def test_a_started_run_is_the_one_followed(glue_client):
    client, stubber = glue_client
    stubber.add_response("start_workflow_run", {"RunId": "wr_new"}, {"Name": "wf"})
    stubber.add_response("get_workflow_run", {"Run": running("wr_new", 5)},
                         {"Name": "wf", "RunId": "wr_new", "IncludeGraph": False})
    assert glue.start_workflow_run(client, "wf") == ("wr_new", False)


def test_a_refused_run_means_following_the_run_in_progress(glue_client):
    """The scheduled run holds the workflow's one concurrent run: StartWorkflowRun refuses."""
    client, stubber = glue_client
    stubber.add_client_error("start_workflow_run", "ConcurrentRunsExceededException",
                             "Concurrent runs exceeded for workflow: wf",
                             expected_params={"Name": "wf"})
    done = {**running("wr_old", 0), "Status": "COMPLETED"}
    stubber.add_response("get_workflow_runs", {"Runs": [running("wr_sched", 3), done]},
                         {"Name": "wf", "IncludeGraph": False})
    assert glue.start_workflow_run(client, "wf") == ("wr_sched", True)


def test_a_run_that_ends_in_error_as_too_many_means_following_the_run_in_progress(glue_client):
    """The other answer AWS documents (WorkflowRun.ErrorMessage): a run made, but in ERROR."""
    client, stubber = glue_client
    stubber.add_response("start_workflow_run", {"RunId": "wr_new"}, {"Name": "wf"})
    refused = {**running("wr_new", 5), "Status": "ERROR",
               "ErrorMessage": "Concurrent runs exceeded for workflow: wf."}
    stubber.add_response("get_workflow_run", {"Run": refused},
                         {"Name": "wf", "RunId": "wr_new", "IncludeGraph": False})
    stubber.add_response("get_workflow_runs",
                         {"Runs": [refused, running("wr_sched", 3), running("wr_older", 1)]},
                         {"Name": "wf", "IncludeGraph": False})
    assert glue.start_workflow_run(client, "wf") == ("wr_sched", True)


def test_a_run_in_progress_that_ends_meanwhile_means_starting_again(glue_client):
    client, stubber = glue_client
    stubber.add_client_error("start_workflow_run", "ConcurrentRunsExceededException",
                             expected_params={"Name": "wf"})
    ended = {**running("wr_sched", 3), "Status": "COMPLETED"}
    stubber.add_response("get_workflow_runs", {"Runs": [ended]},
                         {"Name": "wf", "IncludeGraph": False})
    stubber.add_response("start_workflow_run", {"RunId": "wr_new"}, {"Name": "wf"})
    stubber.add_response("get_workflow_run", {"Run": running("wr_new", 5)},
                         {"Name": "wf", "RunId": "wr_new", "IncludeGraph": False})
    assert glue.start_workflow_run(client, "wf") == ("wr_new", False)


def test_refusals_without_a_run_in_progress_end_in_one_clear_error(glue_client):
    client, stubber = glue_client
    for _ in range(2):
        stubber.add_client_error("start_workflow_run", "ConcurrentRunsExceededException",
                                 expected_params={"Name": "wf"})
        stubber.add_response("get_workflow_runs",
                             {"Runs": [{**running("wr_old", 0), "Status": "STOPPED"}]},
                             {"Name": "wf", "IncludeGraph": False})
    with pytest.raises(WorkflowBusyError, match="refused 2 new runs as too many at once"):
        glue.start_workflow_run(client, "wf", attempts=2)


def test_another_error_of_start_workflow_run_is_not_taken_for_a_busy_workflow(glue_client):
    client, stubber = glue_client
    stubber.add_client_error("start_workflow_run", "EntityNotFoundException",
                             expected_params={"Name": "wf"})
    with pytest.raises(client.exceptions.EntityNotFoundException):
        glue.start_workflow_run(client, "wf")


# --- the lake's Athena workgroup -----------------------------------------------------------------

@pytest.fixture
def athena_client():
    yield from stubbed_client("athena")


def test_a_workgroup_whose_results_went_elsewhere_is_set_back_and_enforced(athena_client):
    client, stubber = athena_client
    stubber.add_response("list_work_groups", {"WorkGroups": [{"Name": "primary"}],
                                              "NextToken": "page-2"}, {})
    stubber.add_response("list_work_groups", {"WorkGroups": [{"Name": "stedi-lakehouse"}]},
                         {"NextToken": "page-2"})
    changed = {"ResultConfiguration": {"OutputLocation": "s3://somewhere-else/"},
               "EnforceWorkGroupConfiguration": False}
    stubber.add_response("get_work_group", {"WorkGroup": {"Name": "stedi-lakehouse",
                                                          "Configuration": changed}},
                         {"WorkGroup": "stedi-lakehouse"})
    stubber.add_response("update_work_group", {}, {
        "WorkGroup": "stedi-lakehouse", "ConfigurationUpdates": {
            "EnforceWorkGroupConfiguration": True,
            "ResultConfigurationUpdates": {
                "OutputLocation": "s3://stedi-demo/athena_results/",
                "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}}}})
    assert athena.ensure_workgroup(client, "stedi-lakehouse", "stedi-demo") == "updated"


def test_a_workgroup_as_deploy_made_it_is_left_alone(athena_client):
    client, stubber = athena_client
    stubber.add_response("list_work_groups", {"WorkGroups": [{"Name": "stedi-lakehouse"}]}, {})
    current = {**athena.workgroup_configuration("stedi-demo"),
               "PublishCloudWatchMetricsEnabled": True}  # settings of AWS's own don't count
    stubber.add_response("get_work_group", {"WorkGroup": {"Name": "stedi-lakehouse",
                                                          "Configuration": current}},
                         {"WorkGroup": "stedi-lakehouse"})
    assert athena.ensure_workgroup(client, "stedi-lakehouse", "stedi-demo") == "unchanged"


# --- the lifecycle merge -------------------------------------------------------------------------

@pytest.fixture
def s3_client():
    yield from stubbed_client("s3")


def test_the_lifecycle_merge_keeps_other_rules_and_the_transition_minimum_size(s3_client):
    client, stubber = s3_client
    theirs = {"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": "customer/"},
              "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]}
    stale = {"ID": "stedi-expire-old", "Status": "Enabled", "Filter": {"Prefix": "old/"},
             "Expiration": {"Days": 1}}
    stubber.add_response("get_bucket_lifecycle_configuration", {
        "Rules": [theirs, stale], "TransitionDefaultMinimumObjectSize": "varies_by_storage_class"},
        {"Bucket": "stedi-demo"})
    stubber.add_response("put_bucket_lifecycle_configuration", {}, {
        "Bucket": "stedi-demo",
        "LifecycleConfiguration": {"Rules": [theirs, *s3.expiry_rules(EXPIRING_PREFIXES_DAYS)]},
        "TransitionDefaultMinimumObjectSize": "varies_by_storage_class"})
    s3.ensure_expiry(client, "stedi-demo", EXPIRING_PREFIXES_DAYS)


def test_a_bucket_without_lifecycle_gets_deploys_rules_and_no_other_setting(s3_client):
    client, stubber = s3_client
    stubber.add_client_error("get_bucket_lifecycle_configuration",
                             "NoSuchLifecycleConfiguration", http_status_code=404,
                             expected_params={"Bucket": "stedi-demo"})
    stubber.add_response("put_bucket_lifecycle_configuration", {}, {
        "Bucket": "stedi-demo",
        "LifecycleConfiguration": {"Rules": s3.expiry_rules(EXPIRING_PREFIXES_DAYS)}})
    s3.ensure_expiry(client, "stedi-demo", EXPIRING_PREFIXES_DAYS)


# --- ExpectedBucketOwner --------------------------------------------------------------------------

def test_an_s3_call_before_the_account_is_known_is_a_programming_error():
    """The handler refuses rather than send a request that does not expect an owner."""
    aws, stubber = stubbed_aws("s3")
    with pytest.raises(RuntimeError, match="S3 HeadObject before the account of the bucket is "
                                           "known"):
        aws("s3").head_object(Bucket="stedi-demo", Key="k")
    aws.bucket_owner = "123456789012"
    stubber.add_response("head_object", {}, {"Bucket": "stedi-demo", "Key": "k",
                                             "ExpectedBucketOwner": "123456789012"})
    stubber.add_response("create_bucket", {}, {"Bucket": "stedi-demo"})  # takes no owner
    aws("s3").head_object(Bucket="stedi-demo", Key="k")
    aws("s3").create_bucket(Bucket="stedi-demo")
    stubber.assert_no_pending_responses()


# --- the alerts (#23): the rule's pattern against the events AWS documents ----------------------

JOBS = [job.name for job in pipeline.JOBS]


def glue_job_event(job: str, state: str) -> dict:
    """A "Glue Job State Change" event as AWS's Glue developer guide shows one ("Automating AWS
    Glue with EventBridge")."""
    return {"version": "0", "id": "abcdef00-1234-5678-9abc-def012345678",
            "detail-type": "Glue Job State Change", "source": "aws.glue",
            "account": "123456789012", "time": "2017-09-07T18:57:21Z", "region": "us-west-2",
            "resources": [],
            "detail": {"jobName": job, "severity": "ERROR" if state != "SUCCEEDED" else "INFO",
                       "state": state, "jobRunId": "jr_0123", "message": "SystemExit: 1"}}


def data_quality_event(state: str, context: dict) -> dict:
    """A "Data Quality Evaluation Results Available" event as AWS's Glue developer guide shows
    one ("Setting up alerts, deployments, and scheduling"), for an ETL job or a catalog table."""
    return {"version": "0", "id": "abcdef00-1234-5678-9abc-def012345678",
            "detail-type": "Data Quality Evaluation Results Available",
            "source": "aws.glue-dataquality", "account": "123456789012",
            "time": "2017-09-07T18:57:21Z", "region": "us-west-2", "resources": [],
            "detail": {"context": context, "resultID": "dqresult-1", "rulesetNames": ["r"],
                       "state": state, "score": 0.5, "rulesSucceeded": 1, "rulesFailed": 1,
                       "rulesSkipped": 0}}


def in_job(job: str) -> dict:
    return {"contextType": "GLUE_JOB", "jobId": "jr-1", "jobName": job, "evaluationContext": ""}


CATALOG_CONTEXT = {"contextType": "GLUE_DATA_CATALOG", "runId": "dqrun-1",
                   "databaseName": "stedi", "tableName": "customer_trusted",
                   "catalogId": "123456789012"}


def matches(pattern: object, event: object) -> bool:
    """EventBridge's matching for what the rule uses, as its user guide states it: every field
    of the pattern must be in the event; a list of values matches one of them; "$or" matches
    when one of its patterns does."""
    if isinstance(pattern, list):
        return event in pattern
    if not isinstance(event, dict):
        return False
    return all(any(matches(branch, event) for branch in value) if key == "$or"
               else key in event and matches(value, event[key])
               for key, value in pattern.items())


def test_the_rule_pattern_is_the_two_documented_patterns_narrowed_to_the_five_jobs():
    assert events.failure_event_pattern(JOBS) == {"$or": [
        {"source": ["aws.glue"], "detail-type": ["Glue Job State Change"],
         "detail": {"jobName": JOBS, "state": ["FAILED", "TIMEOUT", "ERROR"]}},
        {"source": ["aws.glue-dataquality"],
         "detail-type": ["Data Quality Evaluation Results Available"],
         "detail": {"context": {"contextType": ["GLUE_JOB"], "jobName": JOBS},
                    "state": ["FAILED"]}}]}


@pytest.mark.parametrize(("event", "alerted"), [
    (glue_job_event("step_trainer_trusted", "FAILED"), True),
    (glue_job_event("step_trainer_trusted", "TIMEOUT"), True),
    (glue_job_event("step_trainer_trusted", "ERROR"), True),  # undocumented as an event state
    (glue_job_event("step_trainer_trusted", "SUCCEEDED"), False),
    (glue_job_event("step_trainer_trusted", "STOPPED"), False),  # someone stopped it
    (glue_job_event("someone_elses_job", "FAILED"), False),
    (data_quality_event("FAILED", in_job("customer_trusted_to_curated")), True),
    (data_quality_event("SUCCEEDED", in_job("customer_trusted_to_curated")), False),
    (data_quality_event("FAILED", in_job("someone_elses_job")), False),
    (data_quality_event("FAILED", CATALOG_CONTEXT), False),  # a catalog ruleset run, not a job
    ({**glue_job_event("step_trainer_trusted", "FAILED"), "source": "aws.glue-dataquality"},
     False),
], ids=lambda value: value if isinstance(value, bool) else
   f"{value['detail-type']}:{value['detail']['state']}")
def test_the_rule_alerts_on_failed_runs_and_evaluations_of_the_five_jobs_only(event, alerted):
    """Offline, because moto checks no pattern; both by the matching the EventBridge guide
    states and by moto's own matcher, which agree."""
    pattern = events.failure_event_pattern(JOBS)
    assert matches(pattern, event) is alerted
    assert EventPattern.load(json.dumps(pattern)).matches_event(event) is alerted


def test_the_target_is_the_topic_without_role_or_transformer():
    topic = "arn:aws:sns:us-east-1:123456789012:stedi-lakehouse-alerts"
    assert events.alerts_target(topic) == {"Id": "lakehouse-alerts-topic", "Arn": topic}


@pytest.fixture
def events_client():
    yield from stubbed_client("events")


@pytest.fixture
def sns_client():
    yield from stubbed_client("sns")


RULE = "stedi-lakehouse-failures"
RULE_ARN = f"arn:aws:events:us-east-1:123456789012:rule/{RULE}"
TOPIC = "arn:aws:sns:us-east-1:123456789012:stedi-lakehouse-alerts"
TAGS = {"Tags": [{"Key": "created-by", "Value": "stedi-deploy"}]}


def test_a_target_eventbridge_refuses_is_one_clear_error(events_client):
    """PutTargets answers 200 and lists what it refused: that is no success."""
    client, stubber = events_client
    target = events.alerts_target(TOPIC)
    stubber.add_response("list_targets_by_rule", {}, {"Rule": RULE})  # no Targets: none
    stubber.add_response("put_targets", {"FailedEntryCount": 1, "FailedEntries": [
        {"TargetId": target["Id"], "ErrorCode": "ValidationException",
         "ErrorMessage": "Target is not valid"}]}, {"Rule": RULE, "Targets": [target]})
    with pytest.raises(TargetRefusedError, match="EventBridge refused to add target "
                                                 "lakehouse-alerts-topic of rule "
                                                 f"{RULE}: ValidationException: Target is not"):
        events.ensure_target(client, RULE, target)


def test_a_rule_whose_spacing_alone_differs_is_left_alone(events_client):
    client, stubber = events_client
    definition = events.rule_definition(RULE, events.failure_event_pattern(JOBS), "d")
    spaced = json.dumps(json.loads(definition["EventPattern"]), indent=4)
    stubber.add_response("describe_rule", {**definition, "EventPattern": spaced,
                                           "Arn": RULE_ARN}, {"Name": RULE})
    stubber.add_response("list_tags_for_resource", TAGS, {"ResourceARN": RULE_ARN})
    assert events.ensure_rule(client, definition, RULE_ARN) == "unchanged"


def test_a_rule_or_topic_deploy_did_not_create_is_refused(events_client, sns_client):
    client, stubber = events_client
    definition = events.rule_definition(RULE, events.failure_event_pattern(JOBS), "d")
    stubber.add_response("describe_rule", {**definition, "Arn": RULE_ARN}, {"Name": RULE})
    stubber.add_response("list_tags_for_resource", {"Tags": []}, {"ResourceARN": RULE_ARN})
    with pytest.raises(ForeignResourceError, match=f"EventBridge rule {RULE} exists and was "
                                                   "not created by deploy"):
        events.ensure_rule(client, definition, RULE_ARN)
    client, stubber = sns_client
    stubber.add_response("get_topic_attributes", {"Attributes": {"TopicArn": TOPIC}},
                         {"TopicArn": TOPIC})
    stubber.add_response("list_tags_for_resource", {"Tags": []}, {"ResourceArn": TOPIC})
    with pytest.raises(ForeignResourceError, match="SNS topic stedi-lakehouse-alerts exists"):
        sns.ensure_topic(client, "stedi-lakehouse-alerts", TOPIC)


def test_a_pending_subscription_counts_as_subscribed(sns_client):
    """ListSubscriptionsByTopic shows an unconfirmed one with the ARN "PendingConfirmation";
    subscribing it again would mail a second confirmation."""
    client, stubber = sns_client
    stubber.add_response("list_subscriptions_by_topic", {"Subscriptions": [
        {"SubscriptionArn": "PendingConfirmation", "Owner": "123456789012",
         "Protocol": "email", "Endpoint": "Ana@Example.com", "TopicArn": TOPIC}]},
        {"TopicArn": TOPIC})
    assert sns.ensure_email_subscription(client, TOPIC, "ana@example.com") == (
        "pending confirmation")


def test_the_dry_run_plans_the_alerts_of_a_fresh_account():
    plan = DryRun()
    aws = AwsClients(AwsTarget(region="eu-west-1"), on_new_client=plan.attach)
    aws.session = boto3.Session(region_name="eu-west-1")  # no credentials needed
    topic = sns.topic_arn("eu-west-1", "000000000000", "stedi-lakehouse-alerts")
    assert sns.ensure_topic(aws("sns"), "stedi-lakehouse-alerts", topic) == "created"
    definition = events.rule_definition(RULE, events.failure_event_pattern(JOBS), "d")
    assert events.ensure_rule(aws("events"), definition, RULE_ARN) == "created"
    assert events.ensure_target(aws("events"), RULE, events.alerts_target(topic)) == "created"
    assert sns.ensure_email_subscription(aws("sns"), topic, "ana@example.com") == "subscribed"
    assert [f"{c.service}.{c.operation}" for c in plan.calls] == [
        "sns.GetTopicAttributes", "sns.CreateTopic", "events.DescribeRule", "events.PutRule",
        "events.ListTargetsByRule", "events.PutTargets", "sns.ListSubscriptionsByTopic",
        "sns.Subscribe"]
