"""What deploy creates, derived from the pipeline definition: its configuration, the Glue jobs'
definitions and the workflow's triggers, the same for deploy, destroy and forget on AWS.

Pure data, no AWS call: scripts/deploy.py sends these, scripts/destroy.py removes what they
name, and the tests compare them with AWS's documented shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scripts.aws import athena, events, sns
from scripts.lake import pipeline
from scripts.local_glue.glue_versions import DEFAULT_GLUE_VERSION, glue_runtime

SCRIPTS_PREFIX = "glue_scripts"
TEMP_PREFIX = "glue_temp"
# AWS's managed console policies (AWSGlueConsoleFullAccess) let their users pass only roles
# whose names start with AWSGlueServiceRole: this name works for them without a custom policy.
DEFAULT_ROLE = "AWSGlueServiceRole-stedi"
# Deploy's scratch prefixes and the days their objects live: Athena's query results (the DDL
# and the counts) and Glue's temporary files.
EXPIRING_PREFIXES_DAYS = {"athena_results/": 7, f"{TEMP_PREFIX}/": 7}
# IAM is eventually consistent: a role or policy just created or changed may not yet be
# assumable by Glue. The first run waits until this long after the change.
IAM_SETTLE_SECONDS = 10.0
WORKER_TYPE = "G.1X"
WORKERS = 2
# Worker types of Glue Spark jobs and their DPUs (G.025X is for streaming jobs only). Always
# sent: a Glue 6.1 job created without one runs on arm64 (G.1X.GRAVITON) workers.
DPU_PER_WORKER = {"G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8}
JOB_TIMEOUT_MINUTES = 30


@dataclass(frozen=True)
class DeployConfig:
    bucket: str
    database: str = pipeline.DEFAULT_DATABASE
    role_name: str = DEFAULT_ROLE
    create_role: bool = False
    adopt_role: bool = False
    vpc_id: str | None = None
    route_table_id: str | None = None
    landing: Path = Path("lake")
    consent_mode: str = pipeline.DEFAULT_CONSENT_MODE
    ml_match: str = pipeline.DEFAULT_ML_MATCH
    schedule: str | None = None
    run: bool = True
    dry_run: bool = False
    glue_version: str = DEFAULT_GLUE_VERSION
    worker_type: str = WORKER_TYPE
    workers: int = WORKERS
    job_workers: tuple[tuple[str, int], ...] = ()  # per-job overrides of ``workers``
    iam_settle_seconds: float = IAM_SETTLE_SECONDS
    notify: tuple[str, ...] = ()  # email addresses subscribed to the alerts topic

    def workers_of(self, job_name: str) -> int:
        return dict(self.job_workers).get(job_name, self.workers)

    @property
    def lake_root(self) -> str:
        return f"s3://{self.bucket}"

    @property
    def workflow_name(self) -> str:
        return f"{self.database}-lakehouse"

    @property
    def workgroup(self) -> str:
        return athena.workgroup_name(self.database)

    @property
    def alerts_topic(self) -> str:
        return sns.alerts_topic_name(self.database)

    @property
    def failures_rule(self) -> str:
        return events.failures_rule_name(self.database)


def script_key(job: pipeline.GlueJob) -> str:
    return f"{SCRIPTS_PREFIX}/{Path(job.script).name}"


def spark_settings(config: DeployConfig, region: str) -> dict[str, str]:
    """Spark settings the jobs need on the chosen Glue version: on 5.1 and later, which read S3
    through S3A, the bucket's region (AWS's migration notes: without it uploads can time out)."""
    if glue_runtime(config.glue_version).s3a:
        return {"spark.hadoop.fs.s3a.endpoint.region": region}
    return {}


def conf_argument(settings: dict[str, str]) -> dict[str, str]:
    """Spark settings as Glue job arguments: Glue takes one --conf key, so further settings
    are chained in its value (k1=v1 --conf k2=v2)."""
    if not settings:
        return {}
    return {"--conf": " --conf ".join(f"{key}={value}" for key, value in settings.items())}


def device_key_argument(job: pipeline.GlueJob, device_key_arn: str | None) -> dict[str, str]:
    """--device_key for the job that reads the key: where it is, never the key itself."""
    if not job.reads_device_key:
        return {}
    if device_key_arn is None:
        raise ValueError(f"job {job.name} needs the device key's parameter ARN")
    return {"--device_key": f"ssm:{device_key_arn}"}


def job_definition(job: pipeline.GlueJob, config: DeployConfig, role_arn: str,
                   region: str, device_key_arn: str | None = None) -> dict:
    """The Glue job as create_job / update_job take it (without the name)."""
    return {
        "Description": job.description,
        "Role": role_arn,
        "Command": {"Name": "glueetl", "PythonVersion": "3",
                    "ScriptLocation": f"{config.lake_root}/{script_key(job)}"},
        # Always sent: a job created without one gets whatever AWS's default is that day.
        "GlueVersion": config.glue_version,
        "WorkerType": config.worker_type,
        "NumberOfWorkers": config.workers_of(job.name),
        "Timeout": JOB_TIMEOUT_MINUTES,
        "MaxRetries": 0,
        "ExecutionProperty": {"MaxConcurrentRuns": 1},
        "DefaultArguments": {
            "--lake_root": config.lake_root,
            "--database": config.database,
            "--consent_mode": config.consent_mode,
            "--ml_match": config.ml_match,
            "--job-language": "python",
            "--TempDir": f"{config.lake_root}/{TEMP_PREFIX}/",
            "--enable-metrics": "true",
            # No --enable-continuous-cloudwatch-log: AWS documents continuous logging for Glue
            # 4.0 and earlier; from 5.0 (every version deploy offers) all jobs log in real time.
            **device_key_argument(job, device_key_arn),
            **conf_argument(spark_settings(config, region)),
        },
    }


def trigger_definitions(config: DeployConfig) -> list[dict]:
    """A start trigger for the jobs without upstream jobs, then one conditional trigger per
    other job that fires when all the jobs it reads from have succeeded."""
    first = [j for j in pipeline.dependency_order() if not pipeline.upstream_jobs(j.name)]
    start = {"Name": f"{config.workflow_name}-start", "WorkflowName": config.workflow_name,
             "Actions": [{"JobName": j.name} for j in first],
             "Description": "Starts the STEDI pipeline"}
    if config.schedule:
        start.update(Type="SCHEDULED", Schedule=config.schedule, StartOnCreation=True)
    else:
        start.update(Type="ON_DEMAND")
    triggers = [start]
    for job in pipeline.dependency_order():
        upstream = pipeline.upstream_jobs(job.name)
        if not upstream:
            continue
        triggers.append({
            "Name": f"{config.workflow_name}-{job.name}",
            "WorkflowName": config.workflow_name,
            "Type": "CONDITIONAL",
            "StartOnCreation": True,
            "Description": f"Runs {job.name} after {', '.join(u.name for u in upstream)}",
            "Predicate": {"Logical": "AND", "Conditions": [
                {"LogicalOperator": "EQUALS", "JobName": u.name, "State": "SUCCEEDED"}
                for u in upstream]},
            "Actions": [{"JobName": job.name}],
        })
    return triggers


def dpu_hours(config: DeployConfig, execution_seconds: dict[str, int]) -> float:
    """Billed DPU-hours of job runs of the configured sizes (one-minute minimum per run)."""
    return sum(max(60, seconds) * config.workers_of(name) * DPU_PER_WORKER[config.worker_type]
               for name, seconds in execution_seconds.items()) / 3600
