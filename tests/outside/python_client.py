"""The contract from another language: a Python client generated from proto/
with grpcio-tools, calling the gateway as a mobile app would.

usage: python python_client.py HOST:PORT
"""
import sys

import grpc

import stubs

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


if __name__ == "__main__":
    stubs.load()
    from jazz.identity.v1 import user_pb2, user_pb2_grpc
    from jazz.billing.v1 import billing_pb2, billing_pb2_grpc

    channel = grpc.insecure_channel(sys.argv[1])
    grpc.channel_ready_future(channel).result(timeout=10)

    users = user_pb2_grpc.UserServiceStub(channel)
    try:
        users.GetMe(user_pb2.GetMeRequest(), timeout=5)
        check("GetMe without a session is refused", False, "it answered OK")
    except grpc.RpcError as error:
        check("GetMe without a session is refused", error.code() == grpc.StatusCode.UNAUTHENTICATED, error.code())

    plans = billing_pb2_grpc.BillingServiceStub(channel)
    try:
        answer = plans.ListPlans(billing_pb2.ListPlansRequest(), timeout=5)
        check("ListPlans lists three plans", len(answer.plans) == 3, answer)
    except grpc.RpcError as error:
        check("ListPlans answers", error.code() == grpc.StatusCode.UNIMPLEMENTED, error.code())

    print(f"python client: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
