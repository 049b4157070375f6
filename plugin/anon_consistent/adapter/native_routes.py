"""The routes that mirror native Orthanc: ``/anonymize`` URLs, bulk, and provenance.

A native URL works here with ``/anon-consistent`` in front of it:
``/studies/{id}/anonymize`` becomes ``/anon-consistent/studies/{id}/anonymize``
and ``/tools/bulk-anonymize`` becomes ``/anon-consistent/tools/bulk-anonymize``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..bulk import instances_of_all, parse_bulk_request
from ..options import PROJECT_NAME, OptionsError
from ..orthanc_ids import identity_of
from ..provenance import anonymized_id
from ..results import ORTHANC_ID, Level
from ..service import ResourceNotFound
from .http import HttpError, Request, rest_callback
from .routes import LEVELS, PREFIX, Routes


@dataclass
class NativeRoutes:
    routes: Routes

    def table(self) -> dict[str, Callable[..., None]]:
        return {
            f"{PREFIX}/({LEVELS})/([^/]+)/anonymize": rest_callback({"POST": self.native_anonymize}),
            f"{PREFIX}/tools/bulk-anonymize": rest_callback({"POST": self.bulk_anonymize}),
            f"{PREFIX}/({LEVELS})/([^/]+)/provenance": rest_callback({"GET": self.provenance}),
            f"{PREFIX}/({LEVELS})/([^/]+)/anonymized": rest_callback({"GET": self.anonymized}),
        }

    def native_anonymize(self, request: Request) -> Any:
        """Native's URL: an instance answers its file, whatever Accept says; other levels as our route."""
        plural, resource_id = request["groups"]
        if Level.from_plural(plural) is not Level.INSTANCE:
            return self.routes.anonymize(request)
        resolved = self.routes.parse(request.get("body"))
        # Native ignores Asynchronous and KeepSource here: the file is the answer.
        return self.routes.file_answer(resource_id, resolved.options, refuse_job_options=False)

    def bulk_anonymize(self, request: Request) -> dict[str, object]:
        try:
            bulk = parse_bulk_request(request.get("body"))
        except OptionsError as error:
            raise HttpError(400, str(error)) from None
        resolved = self.routes.parse(bulk.options_body)
        gateway = self.routes.gateway
        try:
            instance_ids = instances_of_all(bulk.resources, gateway.resource_level, gateway.instances_of)
        except ResourceNotFound as missing:
            raise HttpError(404, f"Unknown resource: {_unknown_id(str(missing), bulk.resources)}") from None
        description: dict[str, object] = {"Level": "Bulk", "Resources": len(bulk.resources)}
        uri = f"{PREFIX}/tools/bulk-anonymize"
        return self.routes.execute(uri, request, resolved, None, instance_ids, description)

    def provenance(self, request: Request) -> dict[str, object]:
        """Where an anonymized resource came from (the link native keeps as AnonymizedFrom)."""
        level, resource_id = self._resource(request)
        index = self.routes.config.provenance_metadata
        if index is None:
            raise HttpError(404, 'Provenance is not recorded: "AnonConsistent.ProvenanceMetadata" is false')
        gateway = self.routes.gateway
        source = gateway.metadata(level, resource_id, index)
        if source is not None and not ORTHANC_ID.fullmatch(source):
            source = None  # anyone may write user metadata: only an Orthanc ID is a link
        return {
            "ID": resource_id,
            "Type": level.label,
            "AnonymizedFrom": source,
            "SourceExists": source is not None and gateway.exists(level, source),
            "Metadata": self.routes.config.provenance_name or str(index),
        }

    def anonymized(self, request: Request) -> dict[str, object]:
        """The other way: a source's anonymized copy in a project. It re-identifies, so it is guarded."""
        self.routes.guard_export()
        level, resource_id = self._resource(request)
        project = str((request.get("get") or {}).get("project", "default"))
        if not PROJECT_NAME.fullmatch(project) or not self.routes.store.has_project(project):
            raise HttpError(404, f"Unknown project: {project}")
        gateway = self.routes.gateway
        first = gateway.instances_of(level, resource_id)[:1]
        found = []
        if first:
            new = anonymized_id(self.routes.store, project, identity_of(gateway.read_instance(first[0])), level)
            if new is not None and gateway.exists(level, new):
                found.append({"ID": new, "Path": f"/{level.plural}/{new}"})
        return {"ID": resource_id, "Type": level.label, "Project": project, "Anonymized": found}

    def _resource(self, request: Request) -> tuple[Level, str]:
        plural, resource_id = request["groups"]
        level = Level.from_plural(plural)
        if not self.routes.gateway.exists(level, resource_id):
            raise HttpError(404, f"Unknown {level.label.lower()}: {resource_id}")
        return level, resource_id


def _unknown_id(message: str, resources: list[str]) -> str:
    """The requested ID the gateway could not find (its message is a URI or the ID)."""
    return next((r for r in resources if r in message), message)
