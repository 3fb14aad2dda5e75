"""A gRPC-Web call through the gateway, as a browser makes it: HTTP/1.1 POST,
application/grpc-web+proto, length-prefixed frames, trailers in the body.

usage: python grpc_web.py HOST:PORT
"""
import http.client
import struct
import sys

import stubs

ORIGIN = "https://app.jazzmaster.test"


def frames(body):
    """Splits a gRPC-Web response body into (flags, payload) frames."""
    out, i = [], 0
    while i < len(body):
        flags, length = struct.unpack(">BI", body[i:i + 5])
        out.append((flags, body[i + 5:i + 5 + length]))
        i += 5 + length
    return out


def call(address, path, message, headers=None):
    conn = http.client.HTTPConnection(address, timeout=10)
    payload = message.SerializeToString()
    body = struct.pack(">BI", 0, len(payload)) + payload
    conn.request("POST", path, body=body, headers={
        "content-type": "application/grpc-web+proto", "x-grpc-web": "1", "origin": ORIGIN, **(headers or {})})
    response = conn.getresponse()
    data = response.read()
    return response, frames(data)


def trailers(frames_):
    text = b"".join(p for f, p in frames_ if f & 0x80).decode()
    return dict(line.split(":", 1) for line in text.strip().splitlines() if ":" in line)


def main():
    address = sys.argv[1]
    stubs.load()
    from jazz.billing.v1 import billing_pb2

    response, fr = call(address, "/jazz.billing.v1.BillingService/ListPlans", billing_pb2.ListPlansRequest())
    assert response.status == 200, response.status
    assert response.getheader("content-type", "").startswith("application/grpc-web"), response.getheader("content-type")
    assert response.getheader("access-control-allow-origin") == ORIGIN, "CORS header missing for the allowed origin"
    status = trailers(fr).get("grpc-status") or response.getheader("grpc-status")
    assert status is not None, f"no grpc-status in {fr!r}"
    if status.strip() == "0":
        plans = billing_pb2.ListPlansResponse()
        plans.ParseFromString(next(p for f, p in fr if not f & 0x80))
        assert len(plans.plans) == 3, plans
        print(f"grpc-web: ListPlans OK, {len(plans.plans)} plans")
    else:
        print(f"grpc-web: ListPlans answered grpc-status {status.strip()} (a gRPC-Web answer)")

    # An internal method is refused over gRPC-Web too.
    from jazz.identity.v1 import identity_internal_pb2
    response, fr = call(address, "/jazz.identity.v1.IdentityInternalService/ValidateSession",
                        identity_internal_pb2.ValidateSessionRequest(session_token="x"))
    status = trailers(fr).get("grpc-status") or response.getheader("grpc-status")
    assert status is not None and status.strip() == "12", f"internal method over gRPC-Web: {status!r}"
    print("grpc-web: internal method refused (UNIMPLEMENTED)")
    # The Stripe webhook endpoint: plain HTTP POST; unsigned calls are refused.
    conn = http.client.HTTPConnection(address, timeout=10)
    conn.request("POST", "/webhooks/stripe", body=b'{"id":"evt_1"}', headers={"content-type": "application/json"})
    response = conn.getresponse()
    response.read()
    assert response.status == 400, f"unsigned webhook: HTTP {response.status}"
    print("webhook: unsigned call refused (400)")
    print("grpc-web: 3 passed, 0 failed")


if __name__ == "__main__":
    main()
