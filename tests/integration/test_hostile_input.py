"""Hostile or invalid request bodies get a 400 and change nothing; Orthanc stays up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.dicom_data import ct_study, encoded, reidentified
from tests.orthanc_server import OrthancServer, wait_until

DEPTHS = (100, 1_000, 100_000)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    with OrthancServer(tmp_path_factory.mktemp("hostile")) as orthanc:
        yield orthanc


ROUTES = ("patients", "studies", "series", "instances", "jobs-cancel")


@pytest.fixture(scope="module")
def post_routes(server: OrthancServer) -> dict[str, str]:
    """Every POST route of the plugin, on real resources and a real (finished) job."""
    answer = server.upload_all(encoded(reidentified(ct_study())))[0]
    job = server.post(f"/anon-consistent/instances/{answer['ID']}", {"Asynchronous": True, "Project": "hostile"})
    assert job.status_code == 200, job.text
    job_id = job.json()["ID"]
    wait_until(lambda: server.json(f"/anon-consistent/jobs/{job_id}")["State"] == "Success", what="the job")
    return {
        "patients": f"/anon-consistent/patients/{answer['ParentPatient']}",
        "studies": f"/anon-consistent/studies/{answer['ParentStudy']}",
        "series": f"/anon-consistent/series/{answer['ParentSeries']}",
        "instances": f"/anon-consistent/instances/{answer['ID']}",
        "jobs-cancel": f"/anon-consistent/jobs/{job_id}/cancel",
    }


def instance_count(server: OrthancServer) -> int:
    return len(server.json("/instances"))


def assert_refused(response: requests.Response, route: str, message: str) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"] == "application/json"
    answer = response.json()
    assert answer["HttpStatus"] == 400 and answer["HttpError"] == "Bad Request"
    assert answer["Method"] == "POST" and answer["Uri"] == route
    assert message in answer["Message"], answer


def assert_still_up(server: OrthancServer, instances_before: int) -> None:
    assert server.process is not None and server.process.poll() is None, server.log_tail()
    assert server.get("/system").status_code == 200
    assert instance_count(server) == instances_before  # nothing was created


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("kind", ROUTES)
@pytest.mark.parametrize("opening", ["[", '{"a": '])
def test_deep_nesting_is_refused(
    server: OrthancServer, post_routes: dict[str, str], opening: str, kind: str, depth: int
) -> None:
    """Without the guard, depths from about 500 on kill Orthanc with SIGSEGV."""
    before = instance_count(server)
    closing = "]" if opening == "[" else "}"
    body = '{"Keep": ' + opening * depth + "0" + closing * depth + "}"  # valid JSON: only the depth is wrong
    assert_refused(server.post(post_routes[kind], body), post_routes[kind], "more than 32 levels deep")
    assert_still_up(server, before)


@pytest.mark.parametrize("kind", ROUTES)
def test_oversized_body_is_refused(server: OrthancServer, post_routes: dict[str, str], kind: str) -> None:
    before = instance_count(server)
    body = '{"Replace": {"StudyDescription": "' + "x" * (1024 * 1024) + '"}}'
    assert_refused(server.post(post_routes[kind], body), post_routes[kind], "at most 1048576 are accepted")
    assert_still_up(server, before)


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('{"Options": ["RetainUIDs"], "Options": []}', "Options"),
        ('{"Replace": {"PatientName": "A", "PatientName": "B"}}', "PatientName"),
        ('{"Preset": "none", "Keep": [], "Keep": ["PatientWeight"]}', "Keep"),
    ],
)
def test_a_repeated_key_is_refused_and_named(
    server: OrthancServer, post_routes: dict[str, str], body: str, key: str
) -> None:
    # Parsed silently, the last value would win: the caller could not tell what was done.
    before = instance_count(server)
    study_route = post_routes["studies"]
    assert_refused(server.post(study_route, body), study_route, f'names "{key}" twice')
    assert_still_up(server, before)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"Replace": {"Rows": "70000"}}, 'Rows (0028,0010) must be an integer from 0 to 65535 for VR US: "70000"'),
        ({"Replace": {"Rows": "-1"}}, 'Rows (0028,0010) must be an integer from 0 to 65535 for VR US: "-1"'),
        ({"Replace": {"StudyDate": "20241301"}}, "StudyDate (0008,0020) must be a valid date YYYYMMDD"),
        ({"Replace": {"PixelSpacing": "0.5"}}, "PixelSpacing (0028,0030) must have exactly 2 values"),
        ({"Project": "abc\n"}, '"Project" must be 1-64 characters'),
        ({"Keep": [""]}, '"Keep": Empty tag name ""'),
        ({"Remove": [""]}, '"Remove": Empty tag name ""'),
    ],
)
def test_invalid_options_are_refused(
    server: OrthancServer, post_routes: dict[str, str], body: dict[str, object], message: str
) -> None:
    before = instance_count(server)
    study_route = post_routes["studies"]
    assert_refused(server.post(study_route, body), study_route, message)
    assert_still_up(server, before)


@pytest.mark.parametrize(
    ("method", "route", "allowed"),
    [
        ("GET", "/anon-consistent/studies/{study}", "POST"),
        ("PUT", "/anon-consistent/studies/{study}", "POST"),
        ("DELETE", "/anon-consistent", "GET"),
        ("POST", "/anon-consistent/jobs", "GET"),
        ("PUT", "/anon-consistent/projects/x", "DELETE,GET"),
    ],
)
def test_wrong_methods_answer_405_with_allow(
    server: OrthancServer, post_routes: dict[str, str], method: str, route: str, allowed: str
) -> None:
    """Orthanc 1.10 refuses a body on a 405 (it drops the connection), so none is sent; Allow says what to use."""
    before = instance_count(server)
    uri = server.url + route.format(study=post_routes["studies"].rsplit("/", 1)[1])
    response = requests.request(method, uri, data=b"{}", timeout=60)
    assert response.status_code == 405 and response.headers["Allow"] == allowed
    assert_still_up(server, before)
