"""The REST routes under /anon-consistent."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..call_locks import Claim
from ..options import PROJECT_NAME, AnonymizationOptions, OptionsError
from ..presets import ResolvedRequest, parse_request
from ..results import DESCRIPTION, AnonymizationResult, Level
from ..service import Anonymizer, NothingAnonymized, ResourceNotFound, describe_failure
from ..store import MappingStore
from .config import PluginConfig
from .gateway import SdkGateway
from .http import DICOM, HttpError, Request, media_parameters, prefers, rest_callback
from .job import ProgressCallback, StoredCallback
from .jobs import JobQueue

log = logging.getLogger(__name__)

PREFIX = "/anon-consistent"
LEVELS = "patients|studies|series|instances"


@dataclass
class Routes:
    anonymizer: Anonymizer
    gateway: SdkGateway  # picks the transport of each call (loopback or SDK)
    store: MappingStore
    jobs: JobQueue
    config: PluginConfig

    def table(self) -> dict[str, Callable[..., None]]:
        """URI regex -> Orthanc callback."""
        return {
            f"{PREFIX}": rest_callback({"GET": self.describe}),
            f"{PREFIX}/({LEVELS})/([^/]+)": rest_callback({"POST": self.anonymize}),
            f"{PREFIX}/jobs": rest_callback({"GET": self.list_jobs}),
            f"{PREFIX}/jobs/([^/]+)": rest_callback({"GET": self.get_job}),
            f"{PREFIX}/jobs/([^/]+)/cancel": rest_callback({"POST": self.cancel_job}),
            f"{PREFIX}/projects": rest_callback({"GET": self.list_projects}),
            f"{PREFIX}/projects/([^/]+)": rest_callback({"GET": self.get_project, "DELETE": self.delete_project}),
            f"{PREFIX}/projects/([^/]+)/mapping": rest_callback({"GET": self.export_mapping}),
            f"{PREFIX}/projects/([^/]+)/lookup": rest_callback({"GET": self.lookup}),
        }

    def describe(self, request: Request) -> dict[str, object]:
        return {
            "Version": __version__,
            "ProfileEdition": self.anonymizer.profile.edition,
            "UidStrategy": self.config.uid_strategy,
            "UidRoot": self.config.uid_root,
            "AllowMappingExport": self.config.allow_mapping_export,
            # The metadata holding each result's source (null: not recorded).
            "ProvenanceMetadata": self.config.provenance_name or self.config.provenance_metadata,
            "SafePrivateTags": [attribute.as_json() for attribute in self.config.safe_private_tags],
            "Presets": {name: preset.as_json() for name, preset in self.config.presets.items()},
        }

    def anonymize(self, request: Request) -> Any:
        plural, resource_id = request["groups"][:2]
        level = Level.from_plural(plural)
        resolved = self.parse(request.get("body"))  # a bad body costs no I/O
        if level is Level.INSTANCE and prefers(request, DICOM):
            syntax = media_parameters(request, DICOM).get("transfer-syntax", "*")
            if syntax != "*":
                raise HttpError(
                    406, f"The file keeps its source's transfer syntax: transfer-syntax={syntax[:64]!r} cannot be given"
                )
            return self.file_answer(resource_id, resolved.options, refuse_job_options=True)
        try:
            instance_ids = self.anonymizer.list_instances(level, resource_id)
        except ResourceNotFound:
            raise HttpError(404, f"Unknown {level.label.lower()}: {resource_id}") from None
        description: dict[str, object] = {"Level": level.label, "Resource": resource_id}
        return self.execute(f"{PREFIX}/{plural}/{resource_id}", request, resolved, level, instance_ids, description)

    def parse(self, body: bytes | str | None) -> ResolvedRequest:
        try:
            return parse_request(body, self.config.presets)
        except OptionsError as error:
            raise HttpError(400, str(error)) from None

    def execute(
        self,
        uri: str,
        request: Request,
        resolved: ResolvedRequest,
        level: Level | None,
        instance_ids: list[str],
        description: dict[str, object],
    ) -> dict[str, object]:
        """Run a call now, or as a job; ``level`` None is a bulk call."""
        options = resolved.options
        claim: Claim | None = None  # a job takes its place in line when submitted

        def answer(result: AnonymizationResult) -> dict[str, object]:
            return result.as_json(options.project) if level else result.as_bulk_json(options.project)

        def run(progress: ProgressCallback, stored: StoredCallback) -> dict[str, object]:
            with self.gateway.for_call() as gateway:
                result = self.anonymizer.run(
                    level, instance_ids, options, progress, gateway=gateway, on_stored=stored, claim=claim
                )
            return answer(result)

        description = {**description, "Project": options.project}
        if options.asynchronous:
            call = {"Method": "POST", "Uri": uri, "Body": _recorded_body(request)}
            if resolved.preset is not None:
                # "Body" re-runs the call with the preset as configured then; "ResolvedBody"
                # is what this run applied, and re-runs it without any preset.
                description["Preset"] = resolved.preset
                call["ResolvedBody"] = _recorded(resolved.resolved_body, len(json.dumps(resolved.resolved_body)))
            claim = self.anonymizer.locks.claim(options.project, instance_ids)
            job = self.jobs.submit(
                run, description, options.priority, request=call, total=len(instance_ids), claim=claim
            )
            return {"ID": job.id, "Path": f"{PREFIX}/jobs/{job.id}"}
        try:
            with self.gateway.synchronous_call():  # this HTTP thread is held until the answer
                return run(lambda done, total: True, lambda count: None)
        except NothingAnonymized as failure:
            raise HttpError(500, str(failure), answer(failure.result)) from None

    def file_answer(self, instance_id: str, options: AnonymizationOptions, refuse_job_options: bool) -> Any:
        """The anonymized file of one instance, not stored, as native's instance-level anonymize answers.

        With ``Accept: application/dicom`` on our route, options that only a
        stored result can honour are refused; native's own URL ignores them.
        """
        if refuse_job_options and (options.asynchronous or not options.keep_source):
            raise HttpError(
                400,
                f'With "Accept: {DICOM}" the file is the answer and nothing is stored: '
                '"Asynchronous": true and "KeepSource": false cannot apply',
            )
        try:
            self.anonymizer.list_instances(Level.INSTANCE, instance_id)
        except ResourceNotFound:
            raise HttpError(404, f"Unknown instance: {instance_id}") from None
        try:
            with self.gateway.synchronous_call(), self.gateway.for_call() as gateway:
                data = self.anonymizer.anonymize_to_file(instance_id, options, gateway)
        except Exception as error:  # noqa: BLE001 - answered with the reason, as a failed instance is
            reason = describe_failure(error)
            log.error("anon-consistent: instance %s failed: %s", instance_id, reason)
            failed = {"ID": instance_id, "Error": reason}
            details = {"Description": DESCRIPTION, "FailedInstances": [failed], "Project": options.project}
            raise HttpError(500, f"The instance could not be anonymized: {reason}", details) from None
        return (data, DICOM)

    def list_jobs(self, request: Request) -> list[dict[str, object]]:
        return [job.as_json() for job in self.jobs.list()]

    def get_job(self, request: Request) -> dict[str, object]:
        job = self.jobs.get(request["groups"][0])
        if job is None:
            raise HttpError(404, f"Unknown job: {request['groups'][0]}")
        return job.as_json()

    def cancel_job(self, request: Request) -> dict[str, object]:
        job = self.jobs.cancel(request["groups"][0])
        if job is None:
            raise HttpError(404, f"Unknown job: {request['groups'][0]}")
        return job.as_json()

    def guard_export(self) -> None:
        if not self.config.allow_mapping_export:
            raise HttpError(403, 'Mapping export is disabled: set "AnonConsistent": {"AllowMappingExport": true}')

    def _project(self, request: Request) -> str:
        self.guard_export()
        project = str(request["groups"][0])
        if not PROJECT_NAME.fullmatch(project) or not self.store.has_project(project):
            raise HttpError(404, f"Unknown project: {project}")
        return project

    def list_projects(self, request: Request) -> list[dict[str, object]]:
        self.guard_export()
        return self.store.projects()

    def get_project(self, request: Request) -> dict[str, object]:
        project = self._project(request)
        found = self.store.projects(only=project)
        if not found:  # deleted meanwhile
            raise HttpError(404, f"Unknown project: {project}")
        return found[0]

    def delete_project(self, request: Request) -> dict[str, object]:
        project = self._project(request)
        return {"Project": project, "DeletedMappings": self.store.delete_project(project)}

    def export_mapping(self, request: Request) -> Any:
        project = self._project(request)
        rows = self.store.rows(project)
        export_format = _query(request, "format", "json")
        if export_format == "csv":
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(["kind", "original", "anonymized", "created"])
            writer.writerows([row.kind, row.original, row.anonymized, row.created_at] for row in rows)
            return (text.getvalue(), "text/csv")
        if export_format != "json":
            raise HttpError(400, f'Unknown format {export_format!r}: use "json" or "csv"')
        return {"Project": project, "Mapping": [row.as_json() for row in rows]}

    def lookup(self, request: Request) -> dict[str, object]:
        project = self._project(request)
        value = _query(request, "value", "")
        if not value:
            raise HttpError(400, 'Missing query argument "value"')
        found = self.store.lookup(project, value)
        if not found:
            raise HttpError(404, f"No mapping for {value!r} in project {project}")
        return {"Project": project, "Matches": [row.as_json() for row in found]}


# A job's record keeps its body so that an interrupted job names the call to
# re-run; a body larger than this is not kept (jobs are listed and reloaded whole).
MAX_RECORDED_BODY_BYTES = 16 * 1024


def _recorded_body(request: Request) -> object:
    """The request body as recorded with a job (it was parsed once already, so it is valid)."""
    body = request.get("body")
    if not body or not body.strip():
        return {}
    return _recorded(json.loads(body) if len(body) <= MAX_RECORDED_BODY_BYTES else None, len(body))


def _recorded(document: object, size: int) -> object:
    """``document`` if it is small enough to keep with a job, else a note of its size."""
    if size > MAX_RECORDED_BODY_BYTES:
        return {"NotRecorded": f"a body of {size} bytes is larger than the {MAX_RECORDED_BODY_BYTES} recorded"}
    return document


def _query(request: Request, name: str, default: str) -> str:
    arguments = request.get("get") or {}
    return str(arguments.get(name, default))
