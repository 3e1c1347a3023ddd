"""The entity module of lgfapi v10 for one authenticated user: (method, target) -> Response.

Routes `entity/` reads to `Reads` (docs/api-behaviour.md), POST and PATCH to `Writes`
(docs/write-api.md), `stage/{entity}/` to `Stage`, `pick_pack/pick_confirm/` to `Writes`
(docs/api-contract.md L10); handles the response format as Oracle's
"Response Formats" documents it (`format=json|xml`, or a `.json`/`.xml` suffix on the path, as
`/resource.xml` or `/resource/.xml`) and answers every error in the standard error body, in the
requested format.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from ..data.store import Store
from ..data.users import User
from ..errors import ApiError, bad_param
from ..read.options import ReadOptions
from ..read.reads import Reads
from ..read.xmlrender import XML_TYPE, to_xml
from ..responses import Response, error_response
from ..stage.interface import Stage
from ..write.jobs import FlowSettings, Jobs
from ..write.variant import Undocumented
from ..write.writes import Writes, allowed_methods


@dataclass
class Api:
    """One simulated WMS environment's entity module."""

    store: Store
    environment: str
    stage: Stage
    undocumented: Undocumented = field(default_factory=Undocumented)
    index_layout: str = "object"
    lenient_required_filters: bool = False
    read_options: ReadOptions = field(default_factory=ReadOptions)
    jobs: Jobs = field(default_factory=Jobs)
    flow: FlowSettings = field(default_factory=FlowSettings)
    reads: Reads = field(init=False)
    writes: Writes = field(init=False)

    def __post_init__(self) -> None:
        self.reads = Reads(
            self.store,
            self.prefix,
            self.index_layout,
            self.lenient_required_filters,
            self.read_options,
        )
        self.writes = Writes(self.store, self.undocumented, self.jobs, self.flow)

    @property
    def prefix(self) -> str:
        return f"/{self.environment}/wms/lgfapi/v10/"

    def handle(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        user: User,
        body: bytes = b"",
    ) -> Response:
        parts = urlsplit(target)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))  # the last value wins
        path, fmt = _format(parts.path, params.pop("format", None))
        segments: list[str] = []
        try:
            if fmt not in ("json", "xml"):
                raise bad_param("format", "must be 'json' or 'xml'")
            if not path.startswith(self.prefix):
                raise ApiError(404, "Not found.")
            segments = [s for s in path[len(self.prefix) :].split("/") if s]
            if not segments or segments[0] not in ("entity", "stage", "pick_pack"):
                raise ApiError(404, "Not found.")
            if segments[0] == "pick_pack":
                if fmt != "json":
                    raise bad_param("format", "pick_pack takes and answers JSON only")
                return self.writes.pick_pack(method, segments[1:], body, params, user)
            if segments[0] == "stage":
                if fmt != "json":
                    raise bad_param("format", "the stage interface takes and answers JSON only")
                return self.stage.handle(method, segments[1:], params, body, user)
            origin = f"http://{headers.get('Host') or '127.0.0.1'}"
            if method in ("POST", "PATCH"):
                if fmt != "json":
                    raise bad_param("format", "writes take and answer JSON only")
                return self.writes.handle(method, segments[1:], body, origin + self.prefix, user)
            if method not in ("GET", "HEAD"):
                raise ApiError(
                    405,
                    f"Method {method} is not allowed on this resource.",
                    headers={"Allow": allowed_methods(segments[1:])},
                )
            response = self.reads.handle(
                segments[1:],
                method=method,
                params=params,
                origin=origin,
                path=path,
                headers=headers,
                user=user,
            )
        except ApiError as exc:
            response = error_response(exc)
            return _as_xml(response, "error", "") if fmt == "xml" else response
        if fmt == "xml" and response.status == 200:
            entity = segments[1] if len(segments) > 1 else ""
            return _as_xml(response, _xml_root(segments[1:]), entity)
        return response

    def error(self, exc: ApiError, target: str) -> Response:
        """An error raised before routing (authentication), in the requested format."""
        params = dict(parse_qsl(urlsplit(target).query, keep_blank_values=True))
        _, fmt = _format(urlsplit(target).path, params.get("format"))
        response = error_response(exc)
        return _as_xml(response, "error", "") if fmt == "xml" else response


def _format(path: str, param: str | None) -> tuple[str, str]:
    """(path without a `.xml`/`.json` suffix, with a trailing slash; requested format).

    The suffix may end the last segment (`/resource.xml`) or be a segment of its own
    (`/resource/.json`), each with an optional trailing slash.
    """
    fmt = param if param is not None else "json"
    trimmed = path.rstrip("/")
    for suffix in (".xml", ".json"):
        if trimmed.endswith(suffix):
            trimmed, fmt = trimmed[: -len(suffix)].rstrip("/"), suffix[1:]
            break
    return trimmed + "/", fmt


def _xml_root(segments: list[str]) -> str:
    if not segments:
        return "entities"
    if len(segments) == 1:
        return "response"
    return "describe" if segments[1] == "describe" else segments[0]


def _as_xml(response: Response, root: str, entity: str) -> Response:
    if not response.body:
        return response
    payload = json.loads(response.body)
    body = to_xml(root, payload, {"results": entity or "record"})
    response.headers["Content-Type"] = XML_TYPE
    return Response(response.status, body, response.headers)
