"""Deal state answers from the service's cached JSON text: no decoding, no re-encoding.

A deal of 10,000 events has a state of megabytes (every source, every pending report);
encoding it for the ETag and again for the body cost more than the read itself.
"""

from __future__ import annotations

import hashlib
import json

from flask import Response, request

from app.domain.envelope import iso
from app.service import Basis
from app.state_cache import EncodedState


def encoded_state_answer(encoded: EncodedState, basis: Basis) -> Response:
    """Answer {state, basis} with a strong ETag, or 304 when the client's copy is current.

    As with state_answer, the ETag is the stream version and a digest of the state and
    the question (as_of, known_at): it changes exactly when the state does.
    """
    question = f"{encoded.digest}|{iso(basis.as_of)}|{iso(basis.known_at)}"
    etag = f"{encoded.version}-{hashlib.sha256(question.encode()).hexdigest()[:20]}"
    headers = {"ETag": f'"{etag}"'}
    if request.if_none_match.contains_weak(etag):
        return Response(status=304, headers=headers)
    basis_json = json.dumps(basis.to_json()).encode()
    body = b"".join((b'{"state":', encoded.json, b',"basis":', basis_json, b"}"))
    return Response(body, 200, headers, mimetype="application/json")
