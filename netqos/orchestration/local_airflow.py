"""One command for a real local Airflow 3: PostgreSQL, MinIO, an MLflow tracking server (database `mlflow`,
artifacts in bucket netqos-mlflow), then api-server, scheduler, dag-processor and triggerer, all on 127.0.0.1
with their state in one folder (`netqos airflow up|down|status`, `make airflow`).
The DAGs' Spark jobs share one Hive metastore in that PostgreSQL (database `metastore`): tasks of overlapping runs
and DAGs run at the same time, and embedded Derby admits one process.
Scale-out options: `executor="celery"` adds a Redis broker and N Celery workers (local_celery); `spark_workers=N`
starts a Spark standalone cluster (spark_cluster) in <state>/spark-cluster and points spark_default at it.

State dir (default <NETQOS_HOME or ~/.cache/netqos>/airflow):
    secrets/secrets.json     generated passwords and keys (0600), reused by every later `up`
    secrets/passwords.json   the SimpleAuthManager users' passwords (0600)
    config.json              ports and options of the last `up` (what `down` and `status` read)
    home/                    AIRFLOW_HOME          minio/   MinIO data        lake/warehouse   the DAGs' Delta tables
    postgres/                the cluster (a symlink to /var/lib/postgresql/netqos/<hash> when the postgres user
                             cannot enter the state dir)
    logs/<component>.log     process output; logs/airflow/ the task logs        run/<component>.pid
Secrets reach the processes through their environment only: never a command line, never a log.
Nothing heavy is imported here; Airflow runs in its own processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from netqos.orchestration import local_celery, spark_cluster
from netqos.orchestration.defaults import LAKE_POOLS
from netqos.orchestration.local_postgres import DB_USER, LocalPostgres
from netqos.orchestration.local_procs import (
    Secrets,
    how_it_ended_by_file,
    load_or_create_secrets,
    log_tail,
    netqos_home,
    pid_alive,
    port_free,
    running_pid,
    spawn,
    stop_group,
    write_private,
)

REPO = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO / "dags"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
LANDING_BUCKET = "netqos-landing"
MLFLOW_BUCKET = "netqos-mlflow"
REPORTS_BUCKET = "netqos-reports"
MLFLOW_DB = "mlflow"
METASTORE_DB = "metastore"  # the Spark jobs' Hive metastore: Derby allows one process, the DAGs' tasks run several
REGION = "us-east-1"
ADMIN_USER = "admin"
VIEWER_USER = "viewer"

Say = Callable[[str], None]


class LocalAirflowError(RuntimeError):
    pass


def default_state_dir() -> Path:
    return netqos_home() / "airflow"


def minio_binary() -> Path:
    """The MinIO that `make minio` builds (same lookup as tests/s3server.py and scripts/minio-local.sh)."""
    if explicit := os.environ.get("NETQOS_MINIO_BIN"):
        return Path(explicit)
    return netqos_home() / "bin" / "minio"


@dataclass(frozen=True)
class LocalAirflowConfig:
    state_dir: Path = field(default_factory=default_state_dir)
    api_port: int = 8080
    postgres_port: int = 54329
    minio_port: int = 9000
    mlflow_port: int = 5000
    spark_master: str = "local[*]"  # or spark://host:7077 for a standalone cluster
    executor: str = "local"  # "local" (LocalExecutor) or "celery" (CeleryExecutor: Redis + celery_workers workers)
    celery_workers: int = 2
    redis_port: int = 6379
    spark_workers: int = 0  # > 0: start a standalone cluster of that many workers and use it as spark_master
    spark_master_port: int = 7077
    spark_ui_port: int = 8081
    spark_worker_memory: str = "2g"
    warehouse_dir: Path | None = None  # None = <state dir>/lake/warehouse
    dags_folder: Path = DAGS_FOLDER
    startup_timeout: float = 300.0
    schedules: bool = True  # False: the scheduler creates no scheduled runs (manual and REST triggers still run)
    wait_for_dags: tuple[str, ...] = ("netqos_ingest",)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def minio_url(self) -> str:
        return f"http://127.0.0.1:{self.minio_port}"

    @property
    def mlflow_url(self) -> str:
        return f"http://127.0.0.1:{self.mlflow_port}"

    @property
    def warehouse(self) -> Path:
        return self.warehouse_dir or self.state_dir / "lake" / "warehouse"

    @property
    def cluster(self) -> spark_cluster.SparkClusterConfig:
        return spark_cluster.SparkClusterConfig(
            state_dir=self.state_dir / "spark-cluster", master_port=self.spark_master_port,
            master_ui_port=self.spark_ui_port, workers=self.spark_workers, worker_memory=self.spark_worker_memory,
        )  # fmt: skip

    def to_json(self) -> str:
        d = asdict(self)
        return json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in d.items()}, indent=2) + "\n"

    @classmethod
    def load(cls, state_dir: Path) -> LocalAirflowConfig:
        """The config of the last `up` in `state_dir` (defaults when there was none)."""
        try:
            d: dict[str, Any] = json.loads((state_dir / "config.json").read_text())
        except (OSError, ValueError):
            return cls(state_dir=state_dir)
        d["state_dir"] = state_dir
        for k in ("warehouse_dir", "dags_folder"):
            if d.get(k) is not None:
                d[k] = Path(d[k])
        d["wait_for_dags"] = tuple(d.get("wait_for_dags", ()))
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass(frozen=True)
class Layout:
    state_dir: Path

    @property
    def secrets_file(self) -> Path:
        return self.state_dir / "secrets" / "secrets.json"

    @property
    def passwords_file(self) -> Path:
        return self.state_dir / "secrets" / "passwords.json"

    @property
    def airflow_home(self) -> Path:
        return self.state_dir / "home"

    @property
    def logs(self) -> Path:
        return self.state_dir / "logs"

    @property
    def run(self) -> Path:
        return self.state_dir / "run"

    @property
    def minio_dir(self) -> Path:
        return self.state_dir / "minio"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def pid(self, name: str) -> Path:
        return self.run / f"{name}.pid"


@dataclass(frozen=True)
class UpResult:
    url: str
    mlflow_url: str
    user: str
    password: str
    passwords_file: Path
    state_dir: Path
    already_running: bool
    seconds: float


# --- environment -----------------------------------------------------------------------------------------------
def _spark_connection(master: str) -> dict[str, Any]:
    conn: dict[str, Any] = {"conn_type": "spark", "extra": {"deploy-mode": "client"}}
    parsed = urllib.parse.urlsplit(master)
    if parsed.scheme in ("spark", "k8s") and parsed.port is not None:
        conn["host"] = f"{parsed.scheme}://{parsed.hostname}"
        conn["port"] = parsed.port
    else:
        conn["host"] = master
    return conn


def _java_home() -> str | None:
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    java = shutil.which("java")
    return str(Path(java).resolve().parent.parent) if java else None


def airflow_env(config: LocalAirflowConfig, secrets: Secrets, db_url: str) -> dict[str, str]:
    """The environment every Airflow component (and so every task) runs with."""
    layout = Layout(config.state_dir)
    venv_bin = str(Path(sys.executable).parent)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "AIRFLOW__", "NETQOS_S3__"))}
    s3_connection = {
        "conn_type": "aws",
        "login": secrets.minio_access_key,
        "password": secrets.minio_secret_key,
        "extra": {"endpoint_url": config.minio_url, "region_name": REGION},
    }
    env = {
        **base,
        "AIRFLOW_HOME": str(layout.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(config.dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": local_celery.LOCAL_EXECUTOR,
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__CORE__FERNET_KEY": secrets.fernet_key,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{config.base_url}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin,{VIEWER_USER}:viewer",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(layout.passwords_file),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(config.api_port),
        "AIRFLOW__API__BASE_URL": config.base_url,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": secrets.api_secret_key,
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.jwt_secret,
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(layout.logs / "airflow"),
        "AIRFLOW__LOGGING__DAG_PROCESSOR_CHILD_PROCESS_LOG_DIRECTORY": str(layout.logs / "dag_processor"),
        "AIRFLOW_CONN_NETQOS_S3": json.dumps(s3_connection),
        "AIRFLOW_CONN_SPARK_DEFAULT": json.dumps(_spark_connection(config.spark_master)),
        "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "NETQOS_LAKE__WAREHOUSE_DIR": str(config.warehouse),
        "NETQOS_LAKE__METASTORE_URL": f"jdbc:postgresql://127.0.0.1:{config.postgres_port}/{METASTORE_DB}",
        "NETQOS_LAKE__METASTORE_USER": DB_USER,
        "NETQOS_LAKE__METASTORE_PASSWORD": secrets.db_password,  # read by Hive as ${env.…}: never in a conf
        "MLFLOW_TRACKING_URI": config.mlflow_url,  # tasks that train or score log to the local server
        "NETQOS_REPORT__BUCKET": REPORTS_BUCKET,  # the nightly report is copied there too
    }
    if not config.schedules:
        env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] = "False"
    if java_home := _java_home():
        env["JAVA_HOME"] = java_home
    if config.executor == "celery":
        env.update(local_celery.celery_env(config.redis_port, secrets, db_url))
    return env


def node_s3_env(config: LocalAirflowConfig, secrets: Secrets) -> dict[str, str]:
    """S3 settings of the Spark cluster's nodes (executors read the landing objects), like an instance role."""
    return {
        "NETQOS_S3__ENDPOINT_URL": config.minio_url,
        "NETQOS_S3__REGION": REGION,
        "NETQOS_S3__ACCESS_KEY_ID": secrets.minio_access_key,
        "NETQOS_S3__SECRET_ACCESS_KEY": secrets.minio_secret_key,
    }


# --- small HTTP client (stdlib: no Airflow import) ---------------------------------------------------------------
def http_json(method: str, url: str, body: Any = None, token: str | None = None, timeout: float = 10.0) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        raw = r.read()
    return json.loads(raw) if raw else None


def get_token(base_url: str, user: str, password: str) -> str:
    """A JWT for the REST API (POST /auth/token)."""
    token = http_json("POST", f"{base_url}/auth/token", {"username": user, "password": password})["access_token"]
    return str(token)


# --- MinIO ---------------------------------------------------------------------------------------------------------
def _minio_running(layout: Layout) -> int | None:
    return running_pid(layout.pid("minio"), "minio")


def _start_minio(config: LocalAirflowConfig, secrets: Secrets, say: Say) -> None:
    layout = Layout(config.state_dir)
    if _minio_running(layout) is not None:
        return
    binary = minio_binary()
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        raise LocalAirflowError(f"no MinIO binary at {binary}: run `make minio` (NETQOS_MINIO_BIN overrides the path)")
    if not port_free(config.minio_port):
        raise LocalAirflowError(f"port {config.minio_port} is taken: choose another MinIO port (--minio-port)")
    say(f"starting MinIO on {config.minio_url}")
    for d in (layout.minio_dir / "data", layout.minio_dir / "certs"):
        d.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MINIO_", "AWS_"))}
    env.update(MINIO_ROOT_USER=secrets.minio_access_key, MINIO_ROOT_PASSWORD=secrets.minio_secret_key,
               MINIO_BROWSER="off", MINIO_UPDATE="off")  # fmt: skip
    cmd = [str(binary), "server", "--quiet", str(layout.minio_dir / "data"), "--address",
           f"127.0.0.1:{config.minio_port}", "--certs-dir", str(layout.minio_dir / "certs")]  # fmt: skip
    pid = spawn(cmd, env=env, log_path=layout.log("minio"), pid_file=layout.pid("minio"), cwd=config.state_dir)
    _wait_http("MinIO", pid, f"{config.minio_url}/minio/health/ready", layout.log("minio"), 60.0)


def _wait_http(name: str, pid: int, url: str, log: Path, timeout: float) -> None:
    """Until `url` answers 200; fails early with the log's tail when the process `pid` has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):  # not running_pid(): right after fork the cmdline is still the parent's
            raise LocalAirflowError(f"{name} exited while starting; {log}:\n{log_tail(log)}")
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(url, timeout=2) as r,
        ):
            if r.status == 200:
                return
        time.sleep(0.3)
    raise LocalAirflowError(f"{name} did not get ready in {timeout:.0f} s; see {log}")


def s3_client(config: LocalAirflowConfig, secrets: Secrets) -> Any:
    """A boto3 client for the local MinIO (path-style, SigV4)."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3", endpoint_url=config.minio_url, aws_access_key_id=secrets.minio_access_key,
        aws_secret_access_key=secrets.minio_secret_key, region_name=REGION,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )  # fmt: skip


def _ensure_bucket(config: LocalAirflowConfig, secrets: Secrets) -> None:
    client = s3_client(config, secrets)
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    for bucket in (LANDING_BUCKET, MLFLOW_BUCKET, REPORTS_BUCKET):
        if bucket not in existing:
            client.create_bucket(Bucket=bucket)


# --- MLflow --------------------------------------------------------------------------------------------------------
def mlflow_env(config: LocalAirflowConfig, secrets: Secrets, db_url: str) -> dict[str, str]:
    """The tracking server's settings as environment (mlflow's CLI reads MLFLOW_* for its options): the DB URL
    holds a password and must not be on a command line."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MLFLOW_", "AIRFLOW"))}
    return {
        **base,
        "MLFLOW_BACKEND_STORE_URI": db_url,
        "MLFLOW_ARTIFACTS_DESTINATION": f"s3://{MLFLOW_BUCKET}",  # proxied: clients need no S3 keys
        "MLFLOW_HOST": "127.0.0.1",
        "MLFLOW_PORT": str(config.mlflow_port),
        "MLFLOW_WORKERS": "1",
        "MLFLOW_S3_ENDPOINT_URL": config.minio_url,
        "AWS_ACCESS_KEY_ID": secrets.minio_access_key,
        "AWS_SECRET_ACCESS_KEY": secrets.minio_secret_key,
        "AWS_DEFAULT_REGION": REGION,
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    }


def _mlflow_running(layout: Layout) -> int | None:
    return running_pid(layout.pid("mlflow"), "mlflow")


def _start_mlflow(config: LocalAirflowConfig, secrets: Secrets, db_url: str, say: Say) -> None:
    layout = Layout(config.state_dir)
    if _mlflow_running(layout) is not None:
        return
    if not port_free(config.mlflow_port):
        raise LocalAirflowError(f"port {config.mlflow_port} is taken: choose another MLflow port (--mlflow-port)")
    say(f"starting the MLflow tracking server on {config.mlflow_url}")
    env = mlflow_env(config, secrets, db_url)
    pid = spawn([str(Path(sys.executable).with_name("mlflow")), "server"], env=env, log_path=layout.log("mlflow"),
                pid_file=layout.pid("mlflow"), cwd=config.state_dir)  # fmt: skip
    _wait_http("the MLflow server", pid, f"{config.mlflow_url}/health", layout.log("mlflow"), config.startup_timeout)


# --- Airflow -----------------------------------------------------------------------------------------------------
def _airflow_bin() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def _component_pid(layout: Layout, name: str) -> int | None:
    return running_pid(layout.pid(name), "airflow")


def _migrate(layout: Layout, env: Mapping[str, str], say: Say) -> None:
    say("airflow db migrate")
    log = layout.log("db-migrate")
    with open(log, "ab") as out:
        r = subprocess.run([_airflow_bin(), "db", "migrate"], env=dict(env), stdout=out, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, cwd=layout.state_dir, check=False)  # fmt: skip
    if r.returncode != 0:
        raise LocalAirflowError(f"`airflow db migrate` failed ({r.returncode}); {log}:\n{log_tail(log)}")


def _write_passwords(layout: Layout, secrets: Secrets) -> None:
    """SimpleAuthManager only generates (and prints) passwords for users missing from this file."""
    wanted = {ADMIN_USER: secrets.admin_password, VIEWER_USER: secrets.viewer_password}
    try:
        current = json.loads(layout.passwords_file.read_text())
    except (OSError, ValueError):
        current = None
    if current != wanted:
        write_private(layout.passwords_file, json.dumps(wanted) + "\n")


def _check_alive(layout: Layout, names: Iterable[str], config: LocalAirflowConfig | None = None) -> None:
    if config is not None and config.executor == "celery":
        local_celery.check_workers(config.celery_workers, logs=layout.logs, run=layout.run)
    for name in names:
        if _component_pid(layout, name) is None:
            log = layout.log(name)
            ended = how_it_ended_by_file(layout.pid(name))
            raise LocalAirflowError(f"airflow {name} {ended}; see {log}:\n{log_tail(log)}")


def _wait_ready(config: LocalAirflowConfig, secrets: Secrets, say: Say) -> None:
    layout = Layout(config.state_dir)
    deadline = time.monotonic() + config.startup_timeout
    say(f"waiting for the api-server at {config.base_url} and the components' heartbeats")
    health: Any = None
    while True:
        _check_alive(layout, COMPONENTS, config)
        with contextlib.suppress(urllib.error.URLError, OSError, ValueError):
            health = http_json("GET", f"{config.base_url}/api/v2/monitor/health", timeout=5)
            parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
            if all((health.get(p) or {}).get("status") == "healthy" for p in parts):
                break
        if time.monotonic() > deadline:
            raise LocalAirflowError(
                f"Airflow not healthy after {config.startup_timeout:.0f} s (last health: {health});"
                f" logs in {layout.logs}"
            )
        time.sleep(2)
    token = get_token(config.base_url, ADMIN_USER, secrets.admin_password)
    ensure_pools(config.base_url, token)
    if not config.wait_for_dags:
        return
    say(f"waiting for the dag-processor to serialize {', '.join(config.wait_for_dags)}")
    while True:
        _check_alive(layout, COMPONENTS)
        with contextlib.suppress(urllib.error.URLError, OSError, ValueError):
            found = {d["dag_id"] for d in http_json("GET", f"{config.base_url}/api/v2/dags?limit=1000",
                                                    token=token)["dags"]}  # fmt: skip
            if set(config.wait_for_dags) <= found:
                errors = http_json("GET", f"{config.base_url}/api/v2/importErrors", token=token)
                if errors.get("total_entries"):
                    files = ", ".join(e["filename"] for e in errors["import_errors"])
                    say(f"warning: DAG import errors in {files} (see the UI's import errors)")
                return
        if time.monotonic() > deadline:
            raise LocalAirflowError(
                f"DAGs {config.wait_for_dags} not serialized after {config.startup_timeout:.0f} s;"
                f" see {layout.log('dag-processor')} and {layout.logs / 'dag_processor'}"
            )
        time.sleep(2)


def _scaleout_running(config: LocalAirflowConfig, layout: Layout) -> bool:
    """Whether the Celery workers, Redis and the Spark cluster that `config` asks for are all running."""
    if config.executor == "celery":
        names = local_celery.worker_names(config.celery_workers)
        if local_celery.redis_running(layout.pid("redis")) is None or any(
            running_pid(layout.pid(n), local_celery.WORKER_MARKER) is None for n in names
        ):
            return False
    return config.spark_workers == 0 or all(pid for _, pid, _ in spark_cluster.status(config.cluster.state_dir))


def ensure_pools(base_url: str, token: str) -> None:
    """The single-slot writer pools the DAGs' tasks name (defaults.LAKE_POOLS): created, or reset to one slot."""
    for name, description in LAKE_POOLS.items():
        body = {"name": name, "slots": 1, "description": description, "include_deferred": False}
        try:
            http_json("POST", f"{base_url}/api/v2/pools", body, token=token)
        except urllib.error.HTTPError as e:
            if e.code != 409:
                raise
            http_json("PATCH", f"{base_url}/api/v2/pools/{name}", body, token=token)


def up(config: LocalAirflowConfig | None = None, say: Say = print) -> UpResult:
    """Start (or find running) PostgreSQL, MinIO and the four Airflow components; wait until they are ready."""
    config = config or LocalAirflowConfig()
    started = time.monotonic()
    layout = Layout(config.state_dir)
    for d in (config.state_dir, layout.airflow_home, layout.logs, layout.run, config.warehouse):
        d.mkdir(parents=True, exist_ok=True)
    layout.secrets_file.parent.mkdir(mode=0o700, exist_ok=True)
    secrets = load_or_create_secrets(layout.secrets_file)
    _write_passwords(layout, secrets)

    pg = LocalPostgres(config.state_dir, config.postgres_port, say=say)
    running = {n: _component_pid(layout, n) for n in COMPONENTS}
    if (
        all(running.values())
        and _minio_running(layout)
        and _mlflow_running(layout)
        and pg.running()
        and _scaleout_running(config, layout)
    ):
        previous = LocalAirflowConfig.load(config.state_dir)
        say(f"already running (state in {config.state_dir})")
        return UpResult(previous.base_url, previous.mlflow_url, ADMIN_USER, secrets.admin_password,
                        layout.passwords_file, config.state_dir, True, time.monotonic() - started)  # fmt: skip
    if running["api-server"] is None and not port_free(config.api_port):
        raise LocalAirflowError(f"port {config.api_port} is taken: choose another (--port)")
    (config.state_dir / "config.json").write_text(config.to_json())

    if not pg.running():
        pg.init()
        say(f"starting PostgreSQL on 127.0.0.1:{config.postgres_port}")
        pg.start()
    pg.ensure_database(secrets.db_password)
    pg.ensure_extra_database(MLFLOW_DB)
    pg.ensure_extra_database(METASTORE_DB)
    log_link = layout.log("postgres")
    if not log_link.exists() and not log_link.is_symlink():
        log_link.symlink_to(pg.log_path)

    _start_minio(config, secrets, say)
    _ensure_bucket(config, secrets)
    _start_mlflow(config, secrets, pg.url(secrets.db_password, MLFLOW_DB), say)
    if config.spark_workers > 0:
        master = spark_cluster.up(config.cluster, env=node_s3_env(config, secrets), say=say)
        config = replace(config, spark_master=master)
        (config.state_dir / "config.json").write_text(config.to_json())
    if config.executor == "celery":
        local_celery.start_redis(config.state_dir, config.redis_port, secrets, log=layout.log("redis"),
                                 pid_file=layout.pid("redis"), say=say)  # fmt: skip

    env = airflow_env(config, secrets, pg.url(secrets.db_password))
    _migrate(layout, env, say)
    for name in COMPONENTS:
        if running[name] is None:
            say(f"starting airflow {name}")
            # No log servers (they bind every interface): the api-server reads the task logs from local files.
            extra = ["--skip-serve-logs"] if name in ("scheduler", "triggerer") else []
            spawn([_airflow_bin(), name, *extra], env=env, log_path=layout.log(name), pid_file=layout.pid(name),
                  cwd=config.state_dir)  # fmt: skip
    if config.executor == "celery":
        local_celery.start_workers(config.celery_workers, airflow_bin=_airflow_bin(), env=env, logs=layout.logs,
                                   run=layout.run, cwd=config.state_dir, say=say)  # fmt: skip
    _wait_ready(config, secrets, say)
    return UpResult(config.base_url, config.mlflow_url, ADMIN_USER, secrets.admin_password, layout.passwords_file,
                    config.state_dir, False, time.monotonic() - started)  # fmt: skip


def down(state_dir: Path | None = None, *, purge_db: bool = False, say: Say = print) -> list[str]:
    """Stop what `up` started in `state_dir` (Airflow components, MinIO, PostgreSQL); returns what was stopped.
    `purge_db` also deletes the PostgreSQL cluster (tests; the rest of the state dir is left as it is)."""
    state_dir = state_dir or default_state_dir()
    layout = Layout(state_dir)
    config = LocalAirflowConfig.load(state_dir)
    stopped: list[str] = []
    workers = local_celery.worker_names(config.celery_workers) if config.executor == "celery" else []
    for name in (*workers, *COMPONENTS, "redis", "mlflow", "minio"):
        marker = {"redis": local_celery.REDIS_MARKER, "minio": "minio", "mlflow": "mlflow"}.get(name, "airflow")
        pid = running_pid(layout.pid(name), marker)
        if pid is not None:
            say(f"stopping {name} (pid {pid})")
            stop_group(pid)
            stopped.append(name)
        layout.pid(name).unlink(missing_ok=True)
    if config.spark_workers > 0:
        stopped += [f"spark {n}" for n in spark_cluster.down(config.cluster.state_dir, say=say)]
    if (state_dir / "postgres").exists():
        pg = LocalPostgres(state_dir, config.postgres_port, say=say)
        if pg.running():
            say("stopping PostgreSQL")
            pg.stop()
            stopped.append("postgres")
        if purge_db:
            pg.remove()
    return stopped


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    pid: int | None
    detail: str


def status(state_dir: Path | None = None) -> list[ComponentStatus]:
    state_dir = state_dir or default_state_dir()
    layout = Layout(state_dir)
    config = LocalAirflowConfig.load(state_dir)
    result: list[ComponentStatus] = []
    if (state_dir / "postgres").exists():
        pg = LocalPostgres(state_dir, config.postgres_port)
        up_ = pg.initialized and pg.running()
        result.append(ComponentStatus("postgres", pg.pid() if up_ else None, f"127.0.0.1:{config.postgres_port}"))
    else:
        result.append(ComponentStatus("postgres", None, "no cluster yet"))
    result.append(ComponentStatus("minio", running_pid(layout.pid("minio"), "minio"), config.minio_url))
    result.append(ComponentStatus("mlflow", _mlflow_running(layout), config.mlflow_url))
    for name in COMPONENTS:
        detail = config.base_url if name == "api-server" else str(layout.log(name))
        result.append(ComponentStatus(name, _component_pid(layout, name), detail))
    if config.executor == "celery":
        redis = local_celery.redis_running(layout.pid("redis"))
        result.append(ComponentStatus("redis", redis, f"127.0.0.1:{config.redis_port}"))
        for name in local_celery.worker_names(config.celery_workers):
            pid = running_pid(layout.pid(name), local_celery.WORKER_MARKER)
            result.append(ComponentStatus(name, pid, str(layout.log(name))))
    if config.spark_workers > 0:
        for name, pid, detail in spark_cluster.status(config.cluster.state_dir):
            result.append(ComponentStatus(f"spark {name}", pid, detail))
    return result
