"""A local stand-in for the Hugging Face Hub over HTTP, for tests of the real clients (``HF_ENDPOINT``).

Written against huggingface_hub 2.4.0 and datasets 5.2.0; docs/src/hub-server.md lists the routes and which client
call needs each. Standard library only (``http.server.ThreadingHTTPServer`` on 127.0.0.1, HTTP/1.1 keep-alive).

Each dataset repository is a list of commits (40-hex id -> {path: bytes}); ``main`` names the last one. Faults are
set per repository: `HubServer.fail` answers a status (404, 401 gated, 429) for the next requests, `HubServer.drop`
closes the connection halfway through one file once. `HubServer.log` records every request.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

CLIENT_VERSIONS = {"huggingface_hub": "2.4.0", "datasets": "5.2.0"}

_REPO = r"(?P<repo>[^/]+/[^/]+)"
_ROUTES = [
    ("GET", re.compile(rf"^/api/datasets/{_REPO}(?:/revision/(?P<rev>[^/]+))?$"), "_info"),
    ("GET", re.compile(rf"^/api/datasets/{_REPO}/tree/(?P<rev>[^/]+)(?:/(?P<path>.+))?$"), "_tree"),
    ("POST", re.compile(rf"^/api/datasets/{_REPO}/paths-info/(?P<rev>[^/]+)$"), "_paths_info"),
    ("GET", re.compile(rf"^/datasets/{_REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)$"), "_resolve"),
    ("HEAD", re.compile(rf"^/datasets/{_REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)$"), "_resolve"),
]


@dataclass(frozen=True)
class LogEntry:
    """One request: method, path (unquoted, without the query), status answered and the Range header."""

    method: str
    path: str
    status: int
    range: str | None = None


@dataclass
class Repo:
    """A dataset repository: commits in order, each ``(sha, files)``; the last one is ``main``."""

    repo_id: str
    commits: list[tuple[str, dict[str, bytes]]]
    failures: list[int] = field(default_factory=list)  # statuses to answer next, one per request
    failing: int | None = None  # a status answered to every request
    drops: dict[str, int] = field(default_factory=dict)  # file -> how many next GETs are cut halfway

    def files_at(self, rev: str) -> tuple[str, dict[str, bytes]] | None:
        """The commit a revision names (``main`` or a 40-hex id) and its files."""
        if rev == "main":
            return self.commits[-1]
        return next((c for c in self.commits if c[0] == rev), None)


def _git_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _entry(path: str, data: bytes, expand: bool, sha: str) -> dict[str, object]:
    entry: dict[str, object] = {"type": "file", "oid": _git_oid(data), "size": len(data), "path": path}
    if not path.endswith((".md", ".json", ".yaml")):  # data files are LFS on the Hub
        entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
    if expand:
        entry["lastCommit"] = {"id": sha, "title": "update", "date": "2024-01-01T00:00:00.000Z"}
    return entry


class HubServer:
    """The server: `start` it, point ``HF_ENDPOINT`` at `url`, read `log`, `stop` it.

    Example:
        >>> server = HubServer([Repo("mteb/TERRa", [("48312c...", {"README.md": b"..."})])]).start()
        >>> server.url  # doctest: +SKIP
        'http://127.0.0.1:40123'
    """

    def __init__(self, repos: list[Repo]) -> None:
        self.repos = {repo.repo_id: repo for repo in repos}
        self.log: list[LogEntry] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self.keep = 0.5  # the part of a cut body that is sent

    @property
    def url(self) -> str:
        assert self._httpd is not None, "the server is not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> HubServer:
        server = self

        class Handler(_Handler):
            hub = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def reset(self) -> None:
        """Clear the log and every fault (between tests)."""
        with self._lock:
            self.log.clear()
            for repo in self.repos.values():
                repo.failures.clear()
                repo.failing = None
                repo.drops.clear()

    def fail(self, repo_id: str, status: int, times: int | None = None) -> None:
        """Answer ``status`` to the next ``times`` requests for ``repo_id`` (every request when None)."""
        with self._lock:
            repo = self.repos[repo_id]
            if times is None:
                repo.failing = status
            else:
                repo.failures.extend([status] * times)

    def drop(self, repo_id: str, path: str, times: int = 1, keep: float = 0.5) -> None:
        """Close the connection after ``keep`` of the body of the next ``times`` GETs of ``path`` in ``repo_id``."""
        with self._lock:
            self.repos[repo_id].drops[path] = times
            self.keep = keep

    def requested(self, repo_id: str, method: str = "GET") -> list[LogEntry]:
        """The logged requests of one repository (``resolve``, ``tree``, ...) with this method."""
        return [e for e in self.log if f"/{repo_id}/" in e.path + "/" and e.method == method]

    def _record(self, entry: LogEntry) -> None:
        with self._lock:
            self.log.append(entry)

    def _fault(self, repo: Repo) -> int | None:
        with self._lock:
            if repo.failing is not None:
                return repo.failing
            return repo.failures.pop(0) if repo.failures else None

    def _take_drop(self, repo: Repo, path: str) -> bool:
        with self._lock:
            if repo.drops.get(path, 0) > 0:
                repo.drops[path] -= 1
                return True
            return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hub: HubServer

    def log_message(self, format: str, *args: object) -> None:
        return  # the hub's own log is enough

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        self._query = parse_qs(url.query)
        self._path = path
        body = b""
        if method == "POST":
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        for route_method, pattern, handler in _ROUTES:
            match = pattern.match(path)
            if match and route_method == method:
                groups = match.groupdict()
                repo = self.hub.repos.get(groups["repo"])
                if repo is None:
                    return self._error(404, "RepoNotFound", f"Repository {groups['repo']} not found")
                status = self.hub._fault(repo)
                if status is not None:
                    return self._fault(status, repo.repo_id)
                found = repo.files_at(groups.get("rev") or "main")
                if found is None:
                    return self._error(404, "RevisionNotFound", f"Invalid rev id: {groups.get('rev')}")
                return getattr(self, handler)(repo, found, groups, body, method)
        self._error(404, None, f"no route for {method} {path}")

    # --- answers ----------------------------------------------------------------------------------------------

    def _send(self, status: int, body: bytes, headers: dict[str, str], method: str = "GET") -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(body)
        self.hub._record(LogEntry(method, self._path, status, self.headers.get("Range")))

    def _json(self, payload: object, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self._send(200, body, {"Content-Type": "application/json", **(headers or {})}, self.command)

    def _error(self, status: int, code: str | None, message: str) -> None:
        headers = {"Content-Type": "application/json", "X-Error-Message": message}
        if code:
            headers["X-Error-Code"] = code
        self._send(status, json.dumps({"error": message}).encode(), headers, self.command)

    def _fault(self, status: int, repo_id: str) -> None:
        if status == 401:
            message = f"Access to dataset {repo_id} is restricted. You must be authenticated to access it."
            return self._error(401, "GatedRepo", message)
        if status == 404:
            return self._error(404, "RepoNotFound", f"Repository {repo_id} not found")
        if status == 429:
            self._send(429, b"rate limited", {"Retry-After": "0"}, self.command)
            return None
        return self._error(status, None, f"error {status}")

    def _info(
        self, repo: Repo, found: tuple[str, dict[str, bytes]], groups: dict, body: bytes, method: str
    ) -> None:
        sha, files = found
        siblings = [{"rfilename": p, "size": len(d)} for p, d in sorted(files.items())]
        info = {
            "id": repo.repo_id,
            "_id": repo.repo_id,
            "sha": sha,
            "private": False,
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": siblings,
            "lastModified": "2024-01-01T00:00:00.000Z",
            "createdAt": "2024-01-01T00:00:00.000Z",
        }
        self._json(info)

    def _tree(
        self, repo: Repo, found: tuple[str, dict[str, bytes]], groups: dict, body: bytes, method: str
    ) -> None:
        sha, files = found
        base = (groups.get("path") or "").strip("/")
        recursive = self._query.get("recursive", ["false"])[0].lower() == "true"
        expand = self._query.get("expand", ["false"])[0].lower() == "true"
        prefix = f"{base}/" if base else ""
        if base and base in files:
            return self._json([_entry(base, files[base], expand, sha)])
        entries: dict[str, dict[str, object]] = {}
        for path, data in sorted(files.items()):
            if not path.startswith(prefix):
                continue
            parts = path[len(prefix) :].split("/")
            for depth in range(1, len(parts)):  # the folders on the way
                folder = prefix + "/".join(parts[:depth])
                if recursive or depth == 1:
                    entries.setdefault(
                        folder,
                        {"type": "directory", "oid": _git_oid(folder.encode()), "size": 0, "path": folder},
                    )
            if recursive or len(parts) == 1:
                entries[path] = _entry(path, data, expand, sha)
        if base and not entries:
            return self._error(404, "EntryNotFound", f"{base} does not exist on {sha}")
        self._json(list(entries.values()))

    def _paths_info(
        self, repo: Repo, found: tuple[str, dict[str, bytes]], groups: dict, body: bytes, method: str
    ) -> None:
        sha, files = found
        form = parse_qs(body.decode())
        if self.headers.get("Content-Type", "").startswith("application/json"):
            payload = json.loads(body or b"{}")
            paths, expand = payload.get("paths", []), bool(payload.get("expand", False))
        else:
            paths, expand = form.get("paths", []), form.get("expand", ["false"])[0].lower() == "true"
        out: list[dict[str, object]] = []
        for path in paths:
            path = path.strip("/")
            if path in files:
                out.append(_entry(path, files[path], expand, sha))
            elif any(p.startswith(f"{path}/") for p in files) or path == "":
                out.append({"type": "directory", "oid": _git_oid(path.encode()), "size": 0, "path": path})
        self._json(out)

    def _resolve(
        self, repo: Repo, found: tuple[str, dict[str, bytes]], groups: dict, body: bytes, method: str
    ) -> None:
        sha, files = found
        path = groups["path"]
        if path not in files:
            return self._error(404, "EntryNotFound", f"{path} does not exist on {sha}")
        data = files[path]
        entry = _entry(path, data, False, sha)
        etag = entry["lfs"]["oid"] if "lfs" in entry else entry["oid"]  # type: ignore[index]
        headers = {
            "X-Repo-Commit": sha,
            "ETag": f'"{etag}"',
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
        }
        start, status = 0, 200
        wanted = self.headers.get("Range")
        if wanted:
            match = re.fullmatch(r"bytes=(\d*)-(\d*)", wanted.strip())
            if match is None:
                return self._error(416, None, f"bad range {wanted}")
            first, last = match.groups()
            if first == "":
                start, end = max(0, len(data) - int(last)), len(data) - 1
            else:
                start, end = int(first), min(int(last) if last else len(data) - 1, len(data) - 1)
            if start >= len(data) and len(data) > 0:
                self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"}, method)
                return None
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            data, status = data[start : end + 1], 206
        if method == "GET" and self.hub._take_drop(repo, path):
            return self._cut(status, data, headers)
        self._send(status, data, headers, method)
        return None

    def _cut(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        """Promise the whole body, send part of it (`HubServer.keep`), then close the connection."""
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: int(len(data) * self.hub.keep)])
        self.wfile.flush()
        self.close_connection = True
        self.hub._record(LogEntry("GET", self._path, -1, self.headers.get("Range")))
