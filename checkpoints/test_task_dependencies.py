"""Checkpoint task-dependencies: get_db's unit of work, and Depends() overridden (step 2.7)."""

import importlib
import inspect

import pytest
from fastapi import HTTPException
from sqlalchemy import func, select

TASKS = "/api/v1/tasks"


@pytest.fixture
def service(make_app):
    app = make_app("task-service")
    # the very modules main imported (load_service would import fresh copies)
    deps = importlib.import_module("src.api.dependencies")
    models = importlib.import_module("src.models.database")
    return app, deps, models


def count_tasks(app, models):
    with app.state.session_factory() as session:
        return session.scalar(select(func.count()).select_from(models.Task))


def test_get_db_is_a_yield_dependency(service):
    """get_db is a generator function; every task route is async and gets the database from get_database"""
    app, deps, models = service
    assert inspect.isgeneratorfunction(deps.get_db)
    assert inspect.iscoroutinefunction(deps.get_database), "get_database must be async: no thread hop"
    assert deps.DatabaseDep.__metadata__[0].dependency is deps.get_database
    routes = importlib.import_module("src.api.routes").router.routes
    sync = sorted(
        f"{sorted(r.methods)[0]} {r.path}" for r in routes if not inspect.iscoroutinefunction(r.endpoint)
    )
    assert routes and not sync, f"sync routes take a thread hop of their own, outside db.run: {sync}"


def test_override_get_db(service, client):
    """app.dependency_overrides[get_db] swaps the session every route receives"""
    app, deps, models = service
    handed_out = []

    def session_for_test():
        with app.state.session_factory() as session:
            handed_out.append(session)
            yield session
            session.commit()

    app.dependency_overrides[deps.get_db] = session_for_test
    with client(app) as http:
        assert http.post(TASKS, json={"title": "through the override"}).status_code == 201
        assert http.get(TASKS).json()["total"] == 1
    assert len(handed_out) == 2


def test_successful_request_commits(service, client):
    """a route that returns has its work committed"""
    app, deps, models = service
    with client(app) as http:
        created = http.post(TASKS, json={"title": "kept"})
        assert created.status_code == 201, created.text
    assert count_tasks(app, models) == 1


def test_failing_request_rolls_back(service, client):
    """a route that raises after writing leaves nothing behind, and its error still answers"""
    app, deps, models = service

    def write_then_fail(session):
        session.add(models.Task(title="never stored"))
        session.flush()
        raise HTTPException(status_code=409, detail="Conflict after a write.")

    @app.post("/test-only/fail-after-write")
    async def fail_after_write(db: deps.DatabaseDep) -> None:
        await db.run(write_then_fail)

    with client(app) as http:
        response = http.post("/test-only/fail-after-write")
    assert response.status_code == 409, response.text
    assert response.json()["error"]["message"] == "Conflict after a write."
    assert count_tasks(app, models) == 0


def test_stuck_database_answers_503_fast(make_app, client):
    """work past db_request_timeout answers 503 and is rolled back; while it runs, others get 503 at once"""
    import threading
    import time

    app = make_app("task-service", db_request_timeout=0.3)
    deps = importlib.import_module("src.api.dependencies")
    models = importlib.import_module("src.models.database")
    thaw, ran = threading.Event(), []

    def stuck(session):  # a write, then a database that stops answering
        session.add(models.Task(title="answered 503: never stored"))
        session.flush()
        thaw.wait(10)

    @app.post("/test-only/stuck")
    async def stuck_route(db: deps.DatabaseDep) -> None:
        await db.run(stuck)

    @app.get("/test-only/count")
    async def count_route(db: deps.DatabaseDep) -> int:
        return await db.run(lambda session: ran.append(1) or len(ran))

    with client(app) as http:
        first = http.post("/test-only/stuck")
        assert (
            first.status_code == 503 and "retry-after" in first.headers
        ), f"work past db_request_timeout answered {first.status_code}: {first.text[:200]}"
        meanwhile = http.get("/test-only/count")
        assert meanwhile.status_code == 503 and not ran, (
            f"while the stuck work runs on, another request answered {meanwhile.status_code} "
            f"after running its work {len(ran)} time(s): it must get 503 at once"
        )
        thaw.set()  # the database answers again: the stuck work returns and rolls back
        deadline = time.monotonic() + 5
        while http.get("/test-only/count").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ran, "the service did not serve again after the stuck work returned"
    assert count_tasks(app, models) == 0, "the write of a request answered 503 was stored"


def test_load_never_wedges_the_service(service_dir, tmp_path):
    """200 creates at 64 in flight against a real uvicorn store 200 rows, no 5xx, liveness answers"""
    import asyncio
    import sqlite3

    import httpx

    from workbook.serving import Server
    from workbook.services import profile_for

    database = tmp_path / "load.db"
    # A shorter pool timeout: a design that can deadlock shows it in seconds, not in 30.
    url = f"sqlite:///{database}"  # read as DATABASE_URL from notebook 08 on, before as prefixed
    env = {"DATABASE_URL": url, "TASK_SERVICE_DATABASE_URL": url, "TASK_SERVICE_DB_POOL_TIMEOUT": "10"}
    folder = service_dir("task-service")

    async def load(base_url: str) -> tuple[dict[str, int], list[float]]:
        answers: dict[str, int] = {}
        slowest_live: list[float] = []
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx.AsyncClient(base_url=base_url, timeout=10, limits=limits) as http, \
                httpx.AsyncClient(base_url=base_url, timeout=1) as probe:  # fmt: skip
            gate = asyncio.Semaphore(64)

            async def create(n: int) -> None:
                async with gate:
                    try:
                        label = str((await http.post(TASKS, json={"title": f"load {n}"})).status_code)
                    except httpx.HTTPError as error:
                        label = type(error).__name__
                    answers[label] = answers.get(label, 0) + 1

            async def live(done: asyncio.Event) -> None:
                while not done.is_set():
                    started = asyncio.get_running_loop().time()
                    try:
                        await probe.get("/health/live")
                        slowest_live.append(asyncio.get_running_loop().time() - started)
                    except httpx.HTTPError:
                        slowest_live.append(float("inf"))
                    await asyncio.sleep(0.1)

            done = asyncio.Event()
            prober = asyncio.create_task(live(done))
            try:
                await asyncio.wait_for(asyncio.gather(*(create(n) for n in range(200))), timeout=30)
            except asyncio.TimeoutError:
                answers["unanswered within 30 s"] = 200 - sum(answers.values())
            done.set()
            await prober
        return answers, slowest_live

    with Server(profile_for(folder), folder, env=env) as server:
        answers, live = asyncio.run(load(server.base_url))
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT count(*) FROM tasks").fetchone()[0]
    assert answers == {"201": 200} and rows == 200, f"answers {answers}, {rows} of 200 rows stored"
    assert live and max(live) < 1, f"/health/live answered slowest in {max(live, default=0):.1f} s"
