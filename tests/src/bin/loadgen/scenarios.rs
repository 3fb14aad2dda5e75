//! The calls `make bench` measures, each made the way a client makes it:
//! through the gateway with the learner's bearer token, or straight to the
//! owning service with a principal signed as the gateway signs it.

use std::net::SocketAddr;

use jazz_contract::jazz::billing::v1::ListPlansRequest;
use jazz_contract::jazz::billing::v1::billing_service_client::BillingServiceClient;
use jazz_contract::jazz::content::v1 as content_pb;
use jazz_contract::jazz::content::v1::ContentView;
use jazz_contract::jazz::content::v1::content_service_client::ContentServiceClient;
use jazz_contract::jazz::identity::v1::auth_service_client::AuthServiceClient;
use jazz_contract::jazz::identity::v1::user_service_client::UserServiceClient;
use jazz_contract::jazz::identity::v1::{GetMeRequest, SignInRequest};
use jazz_contract::jazz::progress::v1 as progress_pb;
use jazz_contract::jazz::progress::v1::practice_service_client::PracticeServiceClient;
use jazz_contract::jazz::progress::v1::progress_service_client::ProgressServiceClient;
use jazz_platform::principal::{PRINCIPAL_HEADER, Principal, PrincipalKey};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;
use tonic::{Request, Status};
use uuid::Uuid;

/// The seeded learner every scenario acts as.
pub const EMAIL: &str = "demo@jazzmaster.pro";
/// Its password.
pub const PASSWORD: &str = "blue-in-green-1959";
/// Search terms, taken in turn: common and rare words of the catalogue.
const QUERIES: [&str; 4] = ["bebop lick", "blues", "modal exercise", "latin"];

/// Who a call comes from, and which way it goes.
#[derive(Clone)]
pub enum Caller {
    /// Through the gateway, `authorization: Bearer …`.
    Gateway(MetadataValue<Ascii>),
    /// Straight to the service, `x-jazz-principal` signed per call.
    Direct { key: PrincipalKey, user: Uuid },
}

impl Caller {
    /// `message` with this caller's credentials.
    pub fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        match self {
            Self::Gateway(bearer) => {
                request.metadata_mut().insert("authorization", bearer.clone());
            }
            Self::Direct { key, user } => {
                let principal = Principal::user(*user, Uuid::nil(), ulid::Ulid::generate().to_string());
                if let Ok(value) = key.sign(&principal).parse() {
                    request.metadata_mut().insert(PRINCIPAL_HEADER, value);
                }
            }
        }
        request
    }
}

/// Where each process listens.
#[derive(Debug, Clone, Copy)]
pub struct Addresses {
    /// The gateway.
    pub gateway: SocketAddr,
    /// identity, billing, content, progress: `PORT_BASE` + 10 … 13.
    pub services: [SocketAddr; 4],
}

impl Addresses {
    /// The suite `deploy/local/run.sh` starts at `gateway`'s port.
    pub fn from_gateway(gateway: SocketAddr) -> Self {
        let at = |offset: u16| SocketAddr::new(gateway.ip(), gateway.port() + offset);
        Self { gateway, services: [at(10), at(11), at(12), at(13)] }
    }
}

/// The owner of a scenario's method, for the direct path.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    /// identity.
    Identity = 0,
    /// billing.
    Billing = 1,
    /// content.
    Content = 2,
    /// progress.
    Progress = 3,
}

/// What the calls refer to: the learner's stored lick, a practice session,
/// and the catalogue made at scale.
#[derive(Debug, Clone)]
pub struct Fixtures {
    /// A stored two-bar lick of the learner's (~13 KB answer in FULL view).
    pub lick: String,
    /// An open practice session of the learner's.
    pub session: String,
    /// Items of the catalogue at scale: `catalogue_id(i)` for i < this.
    pub catalogue: u64,
}

/// The i-th item of the catalogue `jazz_e2e::scale::content_catalogue`
/// makes, a third of them public (i % 3 == 0).
pub fn catalogue_id(i: u64) -> String {
    jazz_platform::ids::to_api(jazz_e2e::scale::catalogue_uuid(i))
}

/// A public item of the catalogue, chosen by `i`.
fn public_item(fixtures: &Fixtures, i: u64) -> String {
    let n = (fixtures.catalogue / 3).max(1);
    catalogue_id((i.wrapping_mul(2_654_435_761) % n) * 3)
}

/// A read scenario measured both ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// UserService.GetMe.
    GetMe,
    /// BillingService.ListPlans (a static catalogue).
    ListPlans,
    /// ContentService.GetContent, FULL view of the stored lick.
    GetContentFull,
    /// ContentService.GetContent, BASIC view (no music).
    GetContentBasic,
    /// ContentService.SearchContent over the catalogue.
    SearchContent,
    /// ContentService.ListPublicContent, newest and most liked in turn.
    ListPublicContent,
    /// ProgressService.GetProgressSummary over 100k records.
    GetProgressSummary,
}

impl Read {
    /// Every read, in report order.
    pub const ALL: [Read; 7] = [
        Read::GetMe,
        Read::ListPlans,
        Read::GetContentFull,
        Read::GetContentBasic,
        Read::SearchContent,
        Read::ListPublicContent,
        Read::GetProgressSummary,
    ];

    /// Its name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Read::GetMe => "GetMe",
            Read::ListPlans => "ListPlans",
            Read::GetContentFull => "GetContent FULL",
            Read::GetContentBasic => "GetContent BASIC",
            Read::SearchContent => "SearchContent",
            Read::ListPublicContent => "ListPublicContent",
            Read::GetProgressSummary => "GetProgressSummary",
        }
    }

    /// The service that answers it.
    pub fn owner(self) -> Owner {
        match self {
            Read::GetMe => Owner::Identity,
            Read::ListPlans => Owner::Billing,
            Read::GetContentFull | Read::GetContentBasic | Read::SearchContent | Read::ListPublicContent => {
                Owner::Content
            }
            Read::GetProgressSummary => Owner::Progress,
        }
    }

    /// Makes the i-th call.
    pub async fn call(self, channel: Channel, caller: &Caller, fixtures: &Fixtures, i: u64) -> Result<(), Status> {
        match self {
            Read::GetMe => get_me(channel, caller).await,
            Read::ListPlans => {
                // Anonymous: no bearer through the gateway; a user principal
                // is accepted too, so the direct path signs the learner's.
                let request = match caller {
                    Caller::Gateway(_) => Request::new(ListPlansRequest::default()),
                    Caller::Direct { .. } => caller.request(ListPlansRequest::default()),
                };
                BillingServiceClient::new(channel).list_plans(request).await.map(drop)
            }
            Read::GetContentFull => get_content(channel, caller, &fixtures.lick, ContentView::Full).await,
            Read::GetContentBasic => get_content(channel, caller, &fixtures.lick, ContentView::Basic).await,
            Read::SearchContent => search(channel, caller, i).await,
            Read::ListPublicContent => public_feed(channel, caller, i).await,
            Read::GetProgressSummary => summary(channel, caller).await,
        }
    }
}

async fn get_me(channel: Channel, caller: &Caller) -> Result<(), Status> {
    UserServiceClient::new(channel).get_me(caller.request(GetMeRequest::default())).await.map(drop)
}

async fn get_content(channel: Channel, caller: &Caller, id: &str, view: ContentView) -> Result<(), Status> {
    let message = content_pb::GetContentRequest { id: id.to_owned(), view: view as i32 };
    ContentServiceClient::new(channel).get_content(caller.request(message)).await.map(drop)
}

async fn search(channel: Channel, caller: &Caller, i: u64) -> Result<(), Status> {
    let message = content_pb::SearchContentRequest {
        query: QUERIES[(i % QUERIES.len() as u64) as usize].to_owned(),
        view: ContentView::Basic as i32,
        page_size: 20,
        ..Default::default()
    };
    ContentServiceClient::new(channel).search_content(caller.request(message)).await.map(drop)
}

async fn public_feed(channel: Channel, caller: &Caller, i: u64) -> Result<(), Status> {
    let order = if i.is_multiple_of(2) {
        content_pb::PublicContentOrder::Newest
    } else {
        content_pb::PublicContentOrder::MostLiked
    };
    let message = content_pb::ListPublicContentRequest {
        order: order as i32,
        view: ContentView::Basic as i32,
        page_size: 20,
        ..Default::default()
    };
    ContentServiceClient::new(channel).list_public_content(caller.request(message)).await.map(drop)
}

async fn summary(channel: Channel, caller: &Caller) -> Result<(), Status> {
    let message = progress_pb::GetProgressSummaryRequest::default();
    ProgressServiceClient::new(channel).get_progress_summary(caller.request(message)).await.map(drop)
}

async fn practise(channel: Channel, caller: &Caller, fixtures: &Fixtures) -> Result<(), Status> {
    let message = progress_pb::AddPracticeRecordRequest {
        practice_session_id: fixtures.session.clone(),
        content_id: fixtures.lick.clone(),
        minutes: 5,
        performance: Some(80.0),
        ..Default::default()
    };
    PracticeServiceClient::new(channel).add_practice_record(caller.request(message)).await.map(drop)
}

async fn record_view(channel: Channel, caller: &Caller, fixtures: &Fixtures, i: u64) -> Result<(), Status> {
    let message = content_pb::RecordViewRequest { id: public_item(fixtures, i) };
    ContentServiceClient::new(channel).record_view(caller.request(message)).await.map(drop)
}

/// The write burst: AddPracticeRecord and RecordView, half each.
pub async fn write_burst(channel: Channel, caller: &Caller, fixtures: &Fixtures, i: u64) -> Result<(), Status> {
    if i.is_multiple_of(2) {
        practise(channel, caller, fixtures).await
    } else {
        record_view(channel, caller, fixtures, i).await
    }
}

/// A learner's session in proportion, per 100 calls: 2 sign-ins, 1
/// generation, 15 "my content", 15 searches, 3 saves, 10 practice records,
/// 10 summaries, 25 item reads (FULL), 19 public feed pages.
pub async fn learner_mix(channel: Channel, caller: &Caller, fixtures: &Fixtures, i: u64) -> Result<(), Status> {
    match i % 100 {
        0..=1 => {
            let message = SignInRequest { email: EMAIL.into(), password: PASSWORD.into() };
            AuthServiceClient::new(channel).sign_in(message).await.map(drop)
        }
        2 => {
            let message = jazz_e2e::lick_request("F", 140, &ulid::Ulid::generate().to_string());
            ContentServiceClient::new(channel).generate_content(caller.request(message)).await.map(drop)
        }
        3..=17 => {
            let message = content_pb::ListMyContentRequest { page_size: 20, ..Default::default() };
            ContentServiceClient::new(channel).list_my_content(caller.request(message)).await.map(drop)
        }
        18..=32 => search(channel, caller, i / 100).await,
        33..=35 => {
            let message = content_pb::SaveContentRequest {
                content_id: public_item(fixtures, i),
                request_id: ulid::Ulid::generate().to_string(),
                ..Default::default()
            };
            match ContentServiceClient::new(channel).save_content(caller.request(message)).await {
                // Saved before (the catalogue is finite): what a client sees, not a failure.
                Err(status) if status.code() == tonic::Code::AlreadyExists => Ok(()),
                other => other.map(drop),
            }
        }
        36..=45 => practise(channel, caller, fixtures).await,
        46..=55 => summary(channel, caller).await,
        56..=80 => {
            let id = public_item(fixtures, i);
            get_content(channel, caller, &id, ContentView::Full).await
        }
        _ => public_feed(channel, caller, i / 100).await,
    }
}
