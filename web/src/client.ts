// The gateway's public services over gRPC-Web (Connect's transport, the
// client generated from ../proto by protoc-gen-es).
import { createClient, ConnectError, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { AuthService } from "./gen/jazz/identity/v1/auth_pb.js";
import { UserService } from "./gen/jazz/identity/v1/user_pb.js";
import { ContentService } from "./gen/jazz/content/v1/content_pb.js";
import { BillingService } from "./gen/jazz/billing/v1/billing_pb.js";

export type Clients = ReturnType<typeof connect>;

/** Clients for the gateway at `baseUrl`; `token()` is sent as the bearer. */
export function connect(baseUrl: string, token: () => string | undefined) {
  const bearer: Interceptor = (next) => async (request) => {
    const t = token();
    if (t) request.header.set("authorization", `Bearer ${t}`);
    return next(request);
  };
  const transport = createGrpcWebTransport({ baseUrl, interceptors: [bearer], defaultTimeoutMs: 20_000 });
  return {
    auth: createClient(AuthService, transport),
    users: createClient(UserService, transport),
    content: createClient(ContentService, transport),
    billing: createClient(BillingService, transport),
  };
}

/** The `reason` of a google.rpc.ErrorInfo detail (e.g. "PLAN_REQUIRED"). */
export function errorReason(error: unknown): string | undefined {
  if (!(error instanceof ConnectError)) return undefined;
  for (const detail of error.details) {
    if (!("type" in detail) || detail.type !== "google.rpc.ErrorInfo") continue;
    // ErrorInfo: 1 reason, 2 domain, 3 metadata (map). Only the reason here.
    const reader = new BinaryReader(detail.value);
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === 1) return reader.string();
      reader.skip(wireType);
    }
  }
  return undefined;
}

/** A message for people: the gRPC status, and the ErrorInfo reason if any. */
export function describe(error: unknown): string {
  if (error instanceof ConnectError) {
    const reason = errorReason(error);
    return reason ? `${error.rawMessage} (${reason})` : error.rawMessage;
  }
  return String(error);
}

/** A fresh idempotency key: 32 hex digits. */
export function requestId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
