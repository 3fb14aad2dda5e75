"""The contract from another language: a Python client generated from proto/
with grpcio-tools walks a learner's day through the gateway, as a mobile app
would — sign up, confirm, sign in, profile, generate, share, search, like,
save, usage, practice, progress.

usage: python python_client.py HOST:PORT IDENTITY_LOG
"""
import re
import sys
import time

import grpc

import stubs

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")


def latest_verification_token(log_path, email_sent_after):
    for _ in range(50):
        with open(log_path, encoding="utf-8", errors="replace") as log:
            lines = [l for l in log if "link token:" in l and "Verification" in l]
        if len(lines) > email_sent_after:
            match = re.search(r"link token: ([A-Za-z0-9_-]+)", lines[-1])
            if match:
                return match.group(1)
        time.sleep(0.1)
    raise SystemExit("no verification link in the identity log")


def main():
    address, identity_log = sys.argv[1], sys.argv[2]
    stubs.load()
    from google.protobuf import field_mask_pb2
    from jazz.billing.v1 import billing_pb2, billing_pb2_grpc
    from jazz.common.v1 import enums_pb2
    from jazz.content.v1 import content_pb2, content_pb2_grpc, parameters_pb2, resources_pb2 as content_resources
    from jazz.identity.v1 import auth_pb2, auth_pb2_grpc, resources_pb2, user_pb2, user_pb2_grpc
    from jazz.progress.v1 import practice_pb2, practice_pb2_grpc, progress_pb2, progress_pb2_grpc

    channel = grpc.insecure_channel(address)
    grpc.channel_ready_future(channel).result(timeout=10)
    auth = auth_pb2_grpc.AuthServiceStub(channel)
    users = user_pb2_grpc.UserServiceStub(channel)
    content = content_pb2_grpc.ContentServiceStub(channel)
    billing = billing_pb2_grpc.BillingServiceStub(channel)
    practice = practice_pb2_grpc.PracticeServiceStub(channel)
    progress = progress_pb2_grpc.ProgressServiceStub(channel)

    try:
        users.GetMe(user_pb2.GetMeRequest(), timeout=5)
        check("GetMe without a session is refused", False, "it answered OK")
    except grpc.RpcError as error:
        check("GetMe without a session is refused", error.code() == grpc.StatusCode.UNAUTHENTICATED, error.code())

    plans = billing.ListPlans(billing_pb2.ListPlansRequest(), timeout=5)
    check("three plans", len(plans.plans) == 3, plans)

    email = f"py-{time.time_ns()}@example.com"
    password = "round-midnight-monk-1944"
    with open(identity_log, encoding="utf-8", errors="replace") as log:
        before = sum(1 for l in log if "link token:" in l and "Verification" in l)
    auth.SignUp(auth_pb2.SignUpRequest(email=email, password=password, first_name="Thelonious", last_name="Monk",
                                       timezone="America/New_York", locale="en-US"), timeout=10)
    token = latest_verification_token(identity_log, before)
    verified = auth.VerifyEmail(auth_pb2.VerifyEmailRequest(token=token), timeout=10)
    check("verify returns a session", bool(verified.session_token))
    signed_in = auth.SignIn(auth_pb2.SignInRequest(email=email, password=password), timeout=10)
    meta = [("authorization", f"Bearer {signed_in.session_token}")]

    me = users.GetMe(user_pb2.GetMeRequest(), metadata=meta, timeout=5)
    check("who am I", me.user.email == email, me)
    profile = users.UpdateProfile(user_pb2.UpdateProfileRequest(
        profile=resources_pb2.UserProfile(skill_level=enums_pb2.SKILL_LEVEL_ADVANCED),
        update_mask=field_mask_pb2.FieldMask(paths=["skill_level"])), metadata=meta, timeout=5)
    check("profile", profile.profile.skill_level == enums_pb2.SKILL_LEVEL_ADVANCED, profile)

    generated = content.GenerateContent(content_pb2.GenerateContentRequest(
        parameters=parameters_pb2.GenerationParameters(type=enums_pb2.CONTENT_TYPE_CHORD_PROGRESSION, key="F",
                                                       difficulty=enums_pb2.DIFFICULTY_BEGINNER),
        request_id="py-1"), metadata=meta, timeout=10)
    item = generated.content
    check("generate a progression", "<score-partwise" in item.music_xml, item.title)
    content.UpdateContent(content_pb2.UpdateContentRequest(
        content=content_resources.GeneratedContent(id=item.id, is_public=True),
        update_mask=field_mask_pb2.FieldMask(paths=["is_public"])), metadata=meta, timeout=5)
    feed = content.ListPublicContent(content_pb2.ListPublicContentRequest(), metadata=meta, timeout=5)
    check("the public feed shows it", any(c.id == item.id for c in feed.contents), feed)
    liked = content.LikeContent(content_pb2.LikeContentRequest(id=item.id), metadata=meta, timeout=5)
    check("like", liked.likes == 1, liked)
    saved = content.SaveContent(content_pb2.SaveContentRequest(content_id=item.id, collection_name="Standards",
                                                                request_id="py-save"), metadata=meta, timeout=5)
    check("save", saved.saved_content.collection_name == "Standards", saved)
    usage = billing.GetUsage(billing_pb2.GetUsageRequest(), metadata=meta, timeout=5)
    generation = [f for f in usage.features if f.feature == "ai_generation"]
    check("usage counts one generation", bool(generation) and generation[0].used == 1, usage)

    session = practice.StartPracticeSession(practice_pb2.StartPracticeSessionRequest(
        title="Evening comping", request_id="py-session"), metadata=meta, timeout=5).session
    practice.AddPracticeRecord(practice_pb2.AddPracticeRecordRequest(
        practice_session_id=session.id, content_id=item.id, minutes=30, repetitions=4,
        difficulty=enums_pb2.DIFFICULTY_BEGINNER, performance=75, request_id="py-record"), metadata=meta, timeout=5)
    ended = practice.EndPracticeSession(practice_pb2.EndPracticeSessionRequest(id=session.id, rating=5),
                                        metadata=meta, timeout=5).session
    check("practice session ended", ended.HasField("ended_at"), ended)
    summary = progress.GetProgressSummary(progress_pb2.GetProgressSummaryRequest(), metadata=meta, timeout=5)
    check("summary counts the practice", summary.total_minutes >= 30, summary)

    print(f"python client: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
