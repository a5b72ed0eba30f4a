"""A local fake of the part of Twilio the adapter uses, and of the phones on the other side.

An HTTP server (a thread in the test process) that speaks Twilio's REST API for Messages and Calls
(create and list, HTTP Basic auth with the account SID and token, Twilio's JSON and error shapes),
so the real ``twilio`` client runs against it (``TWILIO_API_BASE_URL``). It can fail on purpose
(``fail_next``: a 5xx before or after creating the record; ``hang_next``: create, then never answer)
and it plays the phones: it sends *signed* webhooks back to the live app exactly as Twilio does
(status callbacks, an inbound text, a call picked up and a digit pressed). It also accepts Web Push
posts (``/push/<id>``) so the push stage before the SMS can be seen.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "f" * 32
AUTH_TOKEN = "fake-auth-token-0123456789abcdef"
FROM_NUMBER = "+19195550000"


@dataclass
class Record:
    kind: str  # "message" | "call"
    sid: str
    to: str
    from_: str
    body: str
    status: str
    created: dt.datetime
    status_callback: str
    url: str = ""  # calls: the TwiML to fetch when answered

    def json(self) -> dict[str, Any]:
        common = {
            "sid": self.sid,
            "account_sid": ACCOUNT_SID,
            "to": self.to,
            "from": self.from_,
            "status": self.status,
            "date_created": format_datetime(self.created, usegmt=True),
            "date_updated": format_datetime(self.created, usegmt=True),
            "api_version": "2010-04-01",
        }
        if self.kind == "message":
            return {**common, "body": self.body, "direction": "outbound-api", "num_segments": "1", "error_code": None}
        return {**common, "direction": "outbound-api", "start_time": None, "duration": None}


@dataclass
class Failure:
    status: int
    after_create: bool = False


@dataclass
class FakeTwilio:
    """The server's state. ``records`` is what Twilio "accepted" (texts and calls really sent)."""

    records: list[Record] = field(default_factory=list)
    pushes: list[str] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    hang: list[bool] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""
    sms_url: str = ""  # the app's inbound-text webhook (the number's "A message comes in" URL)
    latency: float = 0.0  # seconds each create takes (so that concurrent senders really overlap)

    # --- what was sent ---------------------------------------------------------------------------

    def messages(self, to: str | None = None) -> list[Record]:
        with self.lock:
            return [r for r in self.records if r.kind == "message" and (to is None or r.to == to)]

    def calls(self, to: str | None = None) -> list[Record]:
        with self.lock:
            return [r for r in self.records if r.kind == "call" and (to is None or r.to == to)]

    def fail_next(self, status: int = 500, *, after_create: bool = False) -> None:
        with self.lock:
            self.failures.append(Failure(status, after_create))

    def hang_next(self) -> None:
        """The next create is recorded (Twilio accepted it) but its answer never comes."""
        with self.lock:
            self.hang.append(True)

    # --- the phones: signed webhooks to the live app ------------------------------------------------

    def post_signed(self, url: str, params: dict[str, str], *, signature: str | None = None) -> httpx.Response:
        sig = RequestValidator(AUTH_TOKEN).compute_signature(url, params) if signature is None else signature
        return httpx.post(url, data=params, headers={"X-Twilio-Signature": sig}, timeout=30)

    def status(self, record: Record, status: str) -> httpx.Response:
        with self.lock:
            record.status = status
        key = "MessageSid" if record.kind == "message" else "CallSid"
        status_key = "MessageStatus" if record.kind == "message" else "CallStatus"
        params = {"AccountSid": ACCOUNT_SID, key: record.sid, status_key: status, "To": record.to, "From": record.from_}
        if record.kind == "message":
            params["SmsStatus"] = status
        return self.post_signed(record.status_callback, params)

    def deliver(self, record: Record) -> None:
        for status in ("sent", "delivered"):
            assert self.status(record, status).status_code == 200

    def text_from(
        self, number: str, body: str, *, sid: str | None = None, signature: str | None = None
    ) -> httpx.Response:
        """A phone texts our number."""
        params = {
            "AccountSid": ACCOUNT_SID,
            "MessageSid": sid or new_sid("SM"),
            "From": number,
            "To": FROM_NUMBER,
            "Body": body,
            "NumMedia": "0",
        }
        return self.post_signed(self.sms_url, params, signature=signature)

    def answer(self, call: Record, digits: str) -> tuple[str, str]:
        """The callee picks up, listens, presses ``digits``. Returns (what was said, the final TwiML)."""
        for status in ("initiated", "ringing", "in-progress"):
            self.status(call, status)
        params = {
            "AccountSid": ACCOUNT_SID,
            "CallSid": call.sid,
            "From": call.from_,
            "To": call.to,
            "CallStatus": "in-progress",
            "Direction": "outbound-api",
        }
        first = self.post_signed(call.url, params)
        assert first.status_code == 200, first.text
        root = ET.fromstring(first.text)  # noqa: S314 - our own app's TwiML
        said = " ".join(el.text or "" for el in root.iter("Say"))
        gather = root.find("Gather")
        if gather is None:
            return said, first.text
        final = self.post_signed(gather.attrib["action"], {**params, "Digits": digits, "FinishedOnKey": ""})
        assert final.status_code == 200, final.text
        self.status(call, "completed")
        return said, final.text


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def twiml_text(body: str) -> str:
    root = ET.fromstring(body)  # noqa: S314 - our own app's TwiML
    return " ".join((el.text or "").strip() for el in root.iter() if el.tag in ("Message", "Say") and el.text)


PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/(?P<resource>Messages|Calls)\.json$")


def _handler(state: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _send(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _error(self, status: int, code: int, message: str) -> None:
            self._send(status, {"code": code, "message": message, "more_info": "", "status": status})

        def _authorized(self, account: str) -> bool:
            expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
            return account == ACCOUNT_SID and self.headers.get("Authorization") == f"Basic {expected}"

        def _body(self) -> dict[str, list[str]]:
            length = int(self.headers.get("Content-Length") or 0)
            return parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)

        def do_POST(self) -> None:
            url = urlparse(self.path)
            state.requests.append(("POST", url.path))
            if url.path.startswith("/push/"):  # a Web Push service: an encrypted body, 201
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with state.lock:
                    state.pushes.append(url.path)
                self._send(201, {})
                return
            form = self._body()
            match = PATH.match(url.path)
            if match is None:
                self._error(404, 20404, "The requested resource was not found")
                return
            if not self._authorized(match["account"]):
                self._error(401, 20003, "Authenticate")
                return
            one = {k: v[0] for k, v in form.items()}
            kind = "message" if match["resource"] == "Messages" else "call"
            if "To" not in one or ("From" not in one and "MessagingServiceSid" not in one):
                self._error(400, 21604, "A 'To' and a 'From' phone number are required.")
                return
            if state.latency:
                time.sleep(state.latency)
            with state.lock:
                failure = state.failures.pop(0) if state.failures else None
                hang = state.hang.pop(0) if state.hang else False
            if failure is not None and not failure.after_create:
                self._error(failure.status, 20500, "Internal Server Error")
                return
            record = Record(
                kind=kind,
                sid=new_sid("SM" if kind == "message" else "CA"),
                to=one["To"],
                from_=one.get("From", FROM_NUMBER),
                body=one.get("Body", ""),
                status="queued",
                created=dt.datetime.now(dt.UTC).replace(microsecond=0),
                status_callback=one.get("StatusCallback", ""),
                url=one.get("Url", ""),
            )
            with state.lock:
                state.records.append(record)
            if failure is not None:
                self._error(failure.status, 20500, "Internal Server Error")
                return
            if hang:
                state.released.wait(120)  # the worker is killed meanwhile; the answer never arrives
                return
            self._send(201, record.json())

        def do_GET(self) -> None:
            url = urlparse(self.path)
            state.requests.append(("GET", url.path))
            match = PATH.match(url.path)
            if match is None:
                self._error(404, 20404, "The requested resource was not found")
                return
            if not self._authorized(match["account"]):
                self._error(401, 20003, "Authenticate")
                return
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            kind = "message" if match["resource"] == "Messages" else "call"
            with state.lock:
                rows = [r for r in state.records if r.kind == kind]
            if "To" in query:
                rows = [r for r in rows if r.to == query["To"]]
            if "From" in query:
                rows = [r for r in rows if r.from_ == query["From"]]
            rows = sorted(rows, key=lambda r: r.created, reverse=True)[: int(query.get("PageSize", "50"))]
            key = "messages" if kind == "message" else "calls"
            self._send(
                200,
                {
                    key: [r.json() for r in rows],
                    "first_page_uri": url.path,
                    "next_page_uri": None,
                    "previous_page_uri": None,
                    "page": 0,
                    "page_size": len(rows),
                    "start": 0,
                    "end": max(0, len(rows) - 1),
                    "uri": self.path,
                },
            )

    return Handler


class FakeTwilioServer:
    def __init__(self) -> None:
        self.state = FakeTwilio()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.httpd.daemon_threads = True
        self.state.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeTwilio:
        self.thread.start()
        return self.state

    def __exit__(self, *exc: object) -> None:
        self.state.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def configure(settings: Any, fake: FakeTwilio, public_base_url: str) -> None:
    """Point the app (this process) at the fake, with ``public_base_url`` as the webhook address."""
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_API_BASE_URL = fake.base_url
    settings.NOTIFICATIONS_PUBLIC_BASE_URL = public_base_url.rstrip("/")
    fake.sms_url = f"{public_base_url.rstrip('/')}/webhooks/twilio/sms/"


def worker_env(fake: FakeTwilio, public_base_url: str) -> dict[str, str]:
    """The same, for a worker process."""
    return {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": fake.base_url,
        "NOTIFICATIONS_PUBLIC_BASE_URL": public_base_url.rstrip("/"),
    }


def iter_twiml_says(body: str) -> Iterator[str]:
    root = ET.fromstring(body)  # noqa: S314 - our own app's TwiML
    for el in root.iter("Say"):
        yield (el.text or "").strip()
