//! The content service on real PostgreSQL, with billing beside it for quota:
//! the whole suite is started (`Suite::start`), the billing catalogue is
//! seeded, each test user gets a FREE subscription, and content is called
//! directly with principals signed by the test key (as the gateway would).
//! Generation of every type, listing and paging 250 items, filters, search,
//! visibility between users, likes under concurrency, views, saved content,
//! soft delete, transposition, export, quota exhaustion and request-id
//! replay.

use jazz_e2e::CONTENT_TYPES as TYPES;
use jazz_e2e::TestUser as User;
use jazz_e2e::reason;
use std::collections::HashSet;
use std::time::Duration;

use diesel::sql_types::{BigInt, Text};
use jazz_contract::jazz::billing::v1::HandleUserCreatedRequest;
use jazz_contract::jazz::billing::v1::billing_internal_service_client::BillingInternalServiceClient;
use jazz_contract::jazz::common::v1::{ContentType, Difficulty};
use jazz_contract::jazz::content::v1::content_internal_service_client::ContentInternalServiceClient;
use jazz_contract::jazz::content::v1::content_service_client::ContentServiceClient;
use jazz_contract::jazz::content::v1::*;
use jazz_e2e::{Suite, TEST_PRINCIPAL_SECRET};
use jazz_platform::config::DatabaseConfig;
use jazz_platform::ids::{new_id, to_api};
use jazz_platform::testing::TestDatabase;
use jazz_platform::{Principal, PrincipalKey, ServiceName};
use secrecy::SecretString;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

const SEEDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../seeds");

struct Env {
    suite: Suite,
    content: Channel,
    billing: Channel,
    key: PrincipalKey,
}

fn db(suite: &Suite, service: ServiceName) -> anyhow::Result<&TestDatabase> {
    suite.databases.iter().find(|(s, _)| *s == service).map(|(_, d)| d).ok_or_else(|| anyhow::anyhow!("no db"))
}

impl Env {
    async fn start() -> anyhow::Result<Self> {
        let suite = Suite::start().await?;
        let billing_db = db(&suite, ServiceName::Billing)?;
        let pool = jazz_platform::db::pool(&DatabaseConfig {
            url: SecretString::from(billing_db.url.clone()),
            max_connections: 2,
            acquire_timeout: Duration::from_secs(5),
            plan_cache_mode: jazz_platform::config::PlanCacheMode::default(),
        })?;
        billing::seed::load(pool, SEEDS.into()).await?;
        let content = suite.service_channel(ServiceName::Content).await?;
        let billing = suite.service_channel(ServiceName::Billing).await?;
        let key = PrincipalKey::new(SecretString::from(TEST_PRINCIPAL_SECRET.to_owned()));
        Ok(Self { suite, content, billing, key })
    }

    /// A user with a FREE subscription.
    async fn user(&self) -> anyhow::Result<User> {
        let user = User::new();
        let mut request = Request::new(HandleUserCreatedRequest {
            event_id: to_api(new_id()),
            user_id: user.api(),
            created_at: None,
            ..Default::default()
        });
        self.key.attach(&mut request, &Principal::service("identity"));
        BillingInternalServiceClient::new(self.billing.clone()).handle_user_created(request).await?;
        Ok(user)
    }

    fn signed<T>(&self, user: &User, message: T) -> Request<T> {
        user.signed(message)
    }

    fn api(&self) -> ContentServiceClient<Channel> {
        ContentServiceClient::new(self.content.clone()).max_decoding_message_size(64 * 1024 * 1024)
    }

    /// Sets FREE's monthly limit of a feature (`None`: unlimited).
    async fn set_free_limit(&self, feature: &str, limit: Option<i64>) -> anyhow::Result<()> {
        use diesel_async::RunQueryDsl as _;
        let value = limit.map_or("null".to_owned(), |l| l.to_string());
        diesel::sql_query(
            "UPDATE plans SET entitlements = jsonb_set(entitlements, ARRAY[$1], $2::jsonb) WHERE tier = 'FREE'",
        )
        .bind::<Text, _>(feature)
        .bind::<Text, _>(value)
        .execute(&mut db(&self.suite, ServiceName::Billing)?.connect().await?)
        .await?;
        jazz_e2e::await_free_limit(&self.billing, feature, limit).await
    }

    async fn count(&self, service: ServiceName, query: &str) -> anyhow::Result<i64> {
        use diesel_async::RunQueryDsl as _;
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let row: Row = diesel::sql_query(query).get_result(&mut db(&self.suite, service)?.connect().await?).await?;
        Ok(row.n)
    }

    async fn generate(
        &self,
        user: &User,
        params: GenerationParameters,
        request_id: &str,
    ) -> Result<GeneratedContent, Status> {
        let request = GenerateContentRequest { parameters: Some(params), request_id: request_id.into() };
        let response = self.api().generate_content(self.signed(user, request)).await?.into_inner();
        response.content.ok_or_else(|| Status::internal("no content"))
    }

    async fn publish(
        &self,
        user: &User,
        id: &str,
        title: Option<&str>,
        tags: &[&str],
    ) -> Result<GeneratedContent, Status> {
        let mut paths = vec!["is_public".to_owned()];
        let mut content = GeneratedContent { id: id.into(), is_public: true, ..Default::default() };
        if let Some(title) = title {
            paths.push("title".into());
            content.title = title.into();
        }
        if !tags.is_empty() {
            paths.push("tags".into());
            content.tags = tags.iter().map(|t| (*t).to_owned()).collect();
        }
        let request =
            UpdateContentRequest { content: Some(content), update_mask: Some(prost_types::FieldMask { paths }) };
        let response = self.api().update_content(self.signed(user, request)).await?.into_inner();
        response.content.ok_or_else(|| Status::internal("no content"))
    }
}

fn params(content_type: ContentType) -> GenerationParameters {
    GenerationParameters { r#type: content_type as i32, ..Default::default() }
}

fn harmony(seed: u64) -> GenerationParameters {
    GenerationParameters { seed: Some(seed), ..params(ContentType::HarmonyExercise) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_is_generated_stored_and_regenerated_identically() -> anyhow::Result<()> {
    let env = Env::start().await?;
    let user = env.user().await?;
    for content_type in TYPES {
        let item = env.generate(&user, params(content_type), "").await?;
        assert_eq!(item.r#type, content_type as i32);
        assert!(item.music_xml.contains("score-partwise"), "{content_type:?}");
        assert!(item.music_data.is_some() && item.parameters.is_some());
        assert!(!item.title.is_empty() && !item.tags.is_empty() && !item.key.is_empty());
        assert!(item.tempo_bpm >= 40 && !item.time_signature.is_empty() && !item.style.is_empty());
        let stored = item.parameters.clone().unwrap_or_default();
        assert!(matches!(
            stored.fields.get("seed").and_then(|v| v.kind.clone()),
            Some(prost_types::value::Kind::StringValue(_))
        ));
        let typed = item.generation_parameters.clone().unwrap_or_default();
        assert!(typed.seed.is_some());
        // The recorded parameters give the same music again.
        let again = env.generate(&user, typed, "").await?;
        assert_eq!(again.music_xml, item.music_xml, "{content_type:?}");
        assert_ne!(again.id, item.id);
        let got = env.api().get_content(env.signed(&user, GetContentRequest { id: item.id.clone(), view: 0 })).await?;
        assert_eq!(got.into_inner().content.map(|c| c.music_xml), Some(item.music_xml));
    }
    let bad = GenerationParameters { tempo_bpm: 900, ..params(ContentType::JazzLick) };
    let status = env.generate(&user, bad, "").await.err();
    assert_eq!(status.as_ref().map(Status::code), Some(Code::InvalidArgument));
    assert!(status.map(|s| s.message().contains("parameters.tempo_bpm")).unwrap_or(false));
    let status = env
        .generate(&user, GenerationParameters { style: "polka".into(), ..params(ContentType::Melody) }, "")
        .await
        .err();
    assert!(status.map(|s| s.message().contains("parameters.style")).unwrap_or(false));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_fifty_items_page_without_gaps_or_repeats() -> anyhow::Result<()> {
    let env = Env::start().await?;
    env.set_free_limit("ai_generation", None).await?;
    let user = env.user().await?;
    let mut created = HashSet::new();
    let mut licks = HashSet::new();
    for chunk in (0..250u64).collect::<Vec<_>>().chunks(10) {
        let mut calls = tokio::task::JoinSet::new();
        for i in chunk {
            let p = if i % 5 == 0 {
                GenerationParameters { seed: Some(*i), key: "Bb".into(), ..params(ContentType::JazzLick) }
            } else {
                harmony(*i)
            };
            let (mut api, request) = (
                env.api(),
                env.signed(&user, GenerateContentRequest { parameters: Some(p), request_id: String::new() }),
            );
            calls.spawn(async move {
                api.generate_content(request).await.map(|r| r.into_inner().content.unwrap_or_default())
            });
        }
        for item in calls.join_all().await {
            let item = item?;
            if item.r#type == ContentType::JazzLick as i32 {
                licks.insert(item.id.clone());
            }
            created.insert(item.id);
        }
    }
    assert_eq!(created.len(), 250);
    let page = |token: String, filter: Option<ContentFilter>| {
        let request = ListMyContentRequest { filter, page_size: 37, page_token: token, ..Default::default() };
        let (mut api, request) = (env.api(), env.signed(&user, request));
        async move { api.list_my_content(request).await }
    };
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let response = page(token, None).await?.into_inner();
        assert!(response.contents.iter().all(|c| c.music_xml.is_empty()), "BASIC view");
        seen.extend(response.contents.into_iter().map(|c| (c.created_at.map(|t| (t.seconds, t.nanos)), c.id)));
        if response.next_page_token.is_empty() {
            break;
        }
        token = response.next_page_token;
    }
    let ids: HashSet<_> = seen.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!((seen.len(), ids), (250, created));
    assert!(seen.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // Filters: type, key by pitch class, tag; and paging within a filter.
    let filter = ContentFilter { r#type: ContentType::JazzLick as i32, key: "A#".into(), ..Default::default() };
    let mut found = HashSet::new();
    let mut token = String::new();
    loop {
        let response = page(token, Some(filter.clone())).await?.into_inner();
        found.extend(response.contents.into_iter().map(|c| c.id));
        if response.next_page_token.is_empty() {
            break;
        }
        token = response.next_page_token;
    }
    assert_eq!(found, licks);
    let by_tag =
        ContentFilter { tag: "lick".into(), difficulty: Difficulty::Intermediate as i32, ..Default::default() };
    let request = ListMyContentRequest { filter: Some(by_tag), page_size: 200, ..Default::default() };
    let tagged = env.api().list_my_content(env.signed(&user, request)).await?.into_inner();
    assert_eq!(tagged.contents.len(), licks.len());

    // A token is bound to its filter and cannot be forged.
    let first = page(String::new(), None).await?.into_inner();
    let other = page(first.next_page_token.clone(), Some(filter)).await.err();
    assert_eq!(other.as_ref().and_then(reason).as_deref(), Some("INVALID_PAGE_TOKEN"));
    let forged = page(format!("x{}", first.next_page_token), None).await.err();
    assert_eq!(forged.map(|s| s.code()), Some(Code::InvalidArgument));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_words_in_titles_and_tags_ranked_and_survives_odd_syntax() -> anyhow::Result<()> {
    let env = Env::start().await?;
    let (alice, bob) = (env.user().await?, env.user().await?);
    let blue = env.generate(&alice, harmony(1), "").await?;
    env.publish(&alice, &blue.id, Some("Blue Bossa changes drill"), &["bossa", "latin"]).await?;
    let tagged = env.generate(&alice, harmony(2), "").await?;
    env.publish(&alice, &tagged.id, Some("Voicing workout"), &["blue", "drill"]).await?;
    let private = env.generate(&alice, harmony(3), "").await?;
    let request = UpdateContentRequest {
        content: Some(GeneratedContent {
            id: private.id.clone(),
            title: "Blue in green secret".into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["title".into()] }),
    };
    env.api().update_content(env.signed(&alice, request)).await?;
    let search = |user: &User, query: &str| {
        let request = SearchContentRequest { query: query.into(), ..Default::default() };
        let (mut api, request) = (env.api(), env.signed(user, request));
        async move { api.search_content(request).await }
    };
    // Title words weigh more than tags: the title hit ranks first.
    let hits = search(&alice, "blue").await?.into_inner().results;
    let ids: Vec<_> = hits.iter().filter_map(|r| r.content.as_ref().map(|c| c.id.clone())).collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(hits.windows(2).all(|w| w[0].rank >= w[1].rank));
    let tag_rank = hits.iter().find(|r| r.content.as_ref().map(|c| &c.id) == Some(&tagged.id)).map(|r| r.rank);
    let title_rank = hits.iter().find(|r| r.content.as_ref().map(|c| &c.id) == Some(&blue.id)).map(|r| r.rank);
    assert!(title_rank > tag_rank, "{title_rank:?} vs {tag_rank:?}");
    // Bob sees public items only; stemming finds "drills".
    let bobs: HashSet<_> =
        search(&bob, "blue").await?.into_inner().results.into_iter().filter_map(|r| r.content.map(|c| c.id)).collect();
    assert_eq!(bobs, HashSet::from([blue.id.clone(), tagged.id.clone()]));
    let drills = search(&bob, "drills -bossa").await?.into_inner().results;
    assert_eq!(
        drills.iter().filter_map(|r| r.content.as_ref().map(|c| c.id.clone())).collect::<Vec<_>>(),
        std::slice::from_ref(&tagged.id)
    );
    for odd in ["\"unclosed", "-", "!!!", "a & b | c", ":*", "or or", "'); DROP TABLE x; --", "the", "((("] {
        let result = search(&bob, odd).await;
        assert!(result.is_ok(), "{odd:?}: {result:?}");
    }
    assert_eq!(search(&bob, "").await.err().map(|s| s.code()), Some(Code::InvalidArgument));
    assert_eq!(search(&bob, "a\0b").await.err().map(|s| s.code()), Some(Code::InvalidArgument));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_users_never_see_private_or_deleted_items() -> anyhow::Result<()> {
    let env = Env::start().await?;
    let (alice, bob) = (env.user().await?, env.user().await?);
    let private = env.generate(&alice, harmony(1), "").await?;
    let deleted = env.generate(&alice, harmony(2), "").await?;
    env.publish(&alice, &deleted.id, Some("Soon gone"), &[]).await?;
    let public = env.generate(&alice, harmony(3), "").await?;
    env.publish(&alice, &public.id, None, &[]).await?;
    env.api().delete_content(env.signed(&alice, DeleteContentRequest { id: deleted.id.clone() })).await?;
    let random = to_api(new_id());
    let mut messages = HashSet::new();
    for id in [&private.id, &deleted.id, &random] {
        let api = env.api();
        let calls: Vec<Result<(), Status>> = vec![
            api.clone().get_content(env.signed(&bob, GetContentRequest { id: id.clone(), view: 0 })).await.map(drop),
            api.clone().like_content(env.signed(&bob, LikeContentRequest { id: id.clone() })).await.map(drop),
            api.clone().record_view(env.signed(&bob, RecordViewRequest { id: id.clone() })).await.map(drop),
            api.clone().delete_content(env.signed(&bob, DeleteContentRequest { id: id.clone() })).await.map(drop),
            api.clone().undelete_content(env.signed(&bob, UndeleteContentRequest { id: id.clone() })).await.map(drop),
            api.clone()
                .save_content(env.signed(&bob, SaveContentRequest { content_id: id.clone(), ..Default::default() }))
                .await
                .map(drop),
            api.clone()
                .export_content(env.signed(
                    &bob,
                    ExportContentRequest {
                        id: id.clone(),
                        format: ExportFormat::Musicxml as i32,
                        request_id: String::new(),
                    },
                ))
                .await
                .map(drop),
            api.clone()
                .transpose_content(
                    env.signed(&bob, TransposeContentRequest { id: id.clone(), all_keys: true, ..Default::default() }),
                )
                .await
                .map(drop),
        ];
        for call in calls {
            let status = call.err();
            assert_eq!(status.as_ref().map(Status::code), Some(Code::NotFound), "{id}");
            messages.extend(status.map(|s| s.message().to_owned()));
        }
    }
    assert_eq!(messages.len(), 1, "one message for every kind of absence: {messages:?}");
    // Bob may not change Alice's public item either.
    let request = UpdateContentRequest {
        content: Some(GeneratedContent { id: public.id.clone(), title: "mine now".into(), ..Default::default() }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["title".into()] }),
    };
    assert_eq!(env.api().update_content(env.signed(&bob, request)).await.err().map(|s| s.code()), Some(Code::NotFound));
    // Feeds show the public item only.
    let feed = env.api().list_public_content(env.signed(&bob, ListPublicContentRequest::default())).await?.into_inner();
    assert_eq!(feed.contents.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), std::slice::from_ref(&public.id));
    let mine = env.api().list_my_content(env.signed(&bob, ListMyContentRequest::default())).await?.into_inner();
    assert!(mine.contents.is_empty());
    // Internal references answer the same facts.
    let mut internal = ContentInternalServiceClient::new(env.content.clone());
    let mut request = Request::new(GetContentRefRequest { content_id: private.id.clone(), user_id: bob.api() });
    env.key.attach(&mut request, &Principal::service("progress"));
    let reference = internal.get_content_ref(request).await?.into_inner().r#ref.unwrap_or_default();
    assert!(reference.exists && !reference.visible && reference.title.is_empty());
    let mut request = Request::new(GetContentRefRequest { content_id: private.id.clone(), user_id: alice.api() });
    env.key.attach(&mut request, &Principal::service("progress"));
    let reference = internal.get_content_ref(request).await?.into_inner().r#ref.unwrap_or_default();
    assert!(reference.visible && reference.owner_user_id == alice.api());
    let request = env.signed(&bob, GetContentRefRequest { content_id: private.id.clone(), user_id: bob.api() });
    assert_eq!(internal.get_content_ref(request).await.err().map(|s| s.code()), Some(Code::PermissionDenied));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_likes_count_fifty_and_a_double_like_counts_once() -> anyhow::Result<()> {
    let env = Env::start().await?;
    let alice = env.user().await?;
    let item = env.generate(&alice, harmony(1), "").await?;
    env.publish(&alice, &item.id, None, &[]).await?;
    let mut likes = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let liker = User::new();
        let (mut api, request) = (env.api(), env.signed(&liker, LikeContentRequest { id: item.id.clone() }));
        likes.spawn(async move { api.like_content(request).await.map(drop) });
    }
    for result in likes.join_all().await {
        result?;
    }
    let get = || {
        let (mut api, request) = (env.api(), env.signed(&alice, GetContentRequest { id: item.id.clone(), view: 0 }));
        async move { api.get_content(request).await }
    };
    assert_eq!(get().await?.into_inner().content.map(|c| c.likes), Some(50));
    let other = env.generate(&alice, harmony(2), "").await?;
    for _ in 0..2 {
        let liked = env.api().like_content(env.signed(&alice, LikeContentRequest { id: other.id.clone() })).await?;
        assert_eq!(liked.into_inner().likes, 1);
    }
    for _ in 0..2 {
        let unliked =
            env.api().unlike_content(env.signed(&alice, UnlikeContentRequest { id: other.id.clone() })).await?;
        assert_eq!(unliked.into_inner().likes, 0);
    }
    let rows = env.count(ServiceName::Content, "SELECT count(*) AS n FROM content_likes").await?;
    assert_eq!(rows, 50);
    // Views count atomically too, and leave updated_at alone.
    let before = get().await?.into_inner().content.unwrap_or_default();
    let mut views = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (mut api, request) = (env.api(), env.signed(&alice, RecordViewRequest { id: item.id.clone() }));
        views.spawn(async move { api.record_view(request).await.map(drop) });
    }
    for result in views.join_all().await {
        result?;
    }
    let after = get().await?.into_inner().content.unwrap_or_default();
    assert_eq!((after.views, after.updated_at), (20, before.updated_at));
    // The most-liked feed puts it first.
    let request = ListPublicContentRequest { order: PublicContentOrder::MostLiked as i32, ..Default::default() };
    let feed = env.api().list_public_content(env.signed(&alice, request)).await?.into_inner();
    assert_eq!(feed.contents.first().map(|c| c.id.clone()), Some(item.id.clone()));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_is_consumed_once_per_request_id_and_exhaustion_is_refused() -> anyhow::Result<()> {
    let env = Env::start().await?;
    env.set_free_limit("ai_generation", Some(2)).await?;
    let user = env.user().await?;
    let first = env.generate(&user, harmony(7), "retry-1").await?;
    let again = env.generate(&user, harmony(7), "retry-1").await?;
    assert_eq!((again.id, again.music_xml), (first.id.clone(), first.music_xml));
    let reused = env.generate(&user, harmony(8), "retry-1").await.err();
    assert_eq!(reused.as_ref().and_then(reason).as_deref(), Some("REQUEST_ID_REUSED"));
    env.generate(&user, harmony(9), "").await?;
    let spent = env.generate(&user, harmony(10), "").await.err();
    assert_eq!(spent.as_ref().map(Status::code), Some(Code::ResourceExhausted));
    assert_eq!(spent.as_ref().and_then(reason).as_deref(), Some("QUOTA_EXCEEDED"));
    assert_eq!(env.count(ServiceName::Content, "SELECT count(*) AS n FROM generated_content").await?, 2);
    let used = env
        .count(
            ServiceName::Billing,
            "SELECT count(*) AS n FROM usage_records WHERE refunded_at IS NULL AND feature = 'ai_generation'",
        )
        .await?;
    assert_eq!(used, 2);
    // A replay of the first call still answers after the quota is spent.
    assert_eq!(env.generate(&user, harmony(7), "retry-1").await?.id, first.id);
    // MIDI export needs a plan with audio_export; MusicXML is free.
    let export = |format: ExportFormat| {
        let request = ExportContentRequest { id: first.id.clone(), format: format as i32, request_id: String::new() };
        let (mut api, request) = (env.api(), env.signed(&user, request));
        async move { api.export_content(request).await }
    };
    let xml = export(ExportFormat::Musicxml).await?.into_inner();
    assert!(xml.file_name.ends_with(".musicxml") && !xml.data.is_empty());
    let midi = export(ExportFormat::Midi).await.err();
    assert_eq!(midi.as_ref().map(Status::code), Some(Code::FailedPrecondition));
    assert_eq!(midi.as_ref().and_then(reason).as_deref(), Some("PLAN_REQUIRED"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_content_collections_and_deletion() -> anyhow::Result<()> {
    let env = Env::start().await?;
    let (alice, bob) = (env.user().await?, env.user().await?);
    let shared = env.generate(&alice, harmony(1), "").await?;
    env.publish(&alice, &shared.id, None, &[]).await?;
    let private = env.generate(&alice, harmony(2), "").await?;
    let own = env.generate(&bob, harmony(3), "").await?;
    let save = |user: &User, id: &str, collection: &str, favorite: bool| {
        let request = SaveContentRequest {
            content_id: id.into(),
            collection_name: collection.into(),
            notes: "practise slowly".into(),
            is_favorite: favorite,
            request_id: String::new(),
        };
        let (mut api, request) = (env.api(), env.signed(user, request));
        async move { api.save_content(request).await }
    };
    let entry = save(&bob, &shared.id, "Warm-ups", true).await?.into_inner().saved_content.unwrap_or_default();
    save(&bob, &own.id, "", false).await?;
    let twice = save(&bob, &shared.id, "Other", false).await.err();
    assert_eq!(twice.as_ref().map(Status::code), Some(Code::AlreadyExists));
    assert_eq!(twice.as_ref().and_then(reason).as_deref(), Some("ALREADY_SAVED"));
    assert_eq!(save(&bob, &private.id, "x", false).await.err().map(|s| s.code()), Some(Code::NotFound));
    let list = |collection: Option<&str>, favorites_only: bool| {
        let request = ListSavedContentRequest {
            collection_name: collection.map(str::to_owned),
            favorites_only,
            ..Default::default()
        };
        let (mut api, request) = (env.api(), env.signed(&bob, request));
        async move { api.list_saved_content(request).await }
    };
    assert_eq!(list(None, false).await?.into_inner().saved_contents.len(), 2);
    assert_eq!(list(Some("Warm-ups"), false).await?.into_inner().saved_contents.len(), 1);
    assert_eq!(list(Some(""), false).await?.into_inner().saved_contents.len(), 1);
    let favorites = list(None, true).await?.into_inner().saved_contents;
    assert_eq!(favorites.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), std::slice::from_ref(&entry.id));
    let collections =
        env.api().list_collections(env.signed(&bob, ListCollectionsRequest::default())).await?.into_inner();
    let names: Vec<_> =
        collections.collections.iter().map(|c| (c.name.clone(), c.item_count, c.favorite_count)).collect();
    assert_eq!(names, [(String::new(), 1, 0), ("Warm-ups".to_owned(), 1, 1)]);
    // Update, then the owner deletes the item: it leaves Bob's list, and
    // comes back when restored.
    let request = UpdateSavedContentRequest {
        saved_content: Some(SavedContent { id: entry.id.clone(), is_favorite: false, ..Default::default() }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["is_favorite".into()] }),
    };
    let updated = env.api().update_saved_content(env.signed(&bob, request)).await?.into_inner().saved_content;
    assert_eq!(updated.map(|s| s.is_favorite), Some(false));
    env.api().delete_content(env.signed(&alice, DeleteContentRequest { id: shared.id.clone() })).await?;
    assert_eq!(list(None, false).await?.into_inner().saved_contents.len(), 1);
    let events = env
        .count(
            ServiceName::Content,
            "SELECT count(*) AS n FROM outbox_events WHERE event_type = 'content.content_deleted'",
        )
        .await?;
    assert_eq!(events, 1);
    let again =
        env.api().delete_content(env.signed(&alice, DeleteContentRequest { id: shared.id.clone() })).await.err();
    assert_eq!(again.map(|s| s.code()), Some(Code::NotFound));
    env.api().undelete_content(env.signed(&alice, UndeleteContentRequest { id: shared.id.clone() })).await?;
    assert_eq!(list(None, false).await?.into_inner().saved_contents.len(), 2);
    let not_deleted =
        env.api().undelete_content(env.signed(&alice, UndeleteContentRequest { id: shared.id.clone() })).await.err();
    assert_eq!(not_deleted.as_ref().and_then(reason).as_deref(), Some("NOT_DELETED"));
    env.api().unsave_content(env.signed(&bob, UnsaveContentRequest { id: entry.id.clone() })).await?;
    assert_eq!(list(None, false).await?.into_inner().saved_contents.len(), 1);
    let audits = env.count(ServiceName::Content, "SELECT count(*) AS n FROM audit_logs").await?;
    assert!(audits >= 10, "{audits}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transposition_makes_one_spelled_item_per_key() -> anyhow::Result<()> {
    let env = Env::start().await?;
    env.set_free_limit("transpose", None).await?;
    let user = env.user().await?;
    let source = env
        .generate(&user, GenerationParameters { key: "C".into(), seed: Some(4), ..params(ContentType::JazzLick) }, "")
        .await?;
    let request = TransposeContentRequest {
        id: source.id.clone(),
        all_keys: true,
        view: ContentView::Full as i32,
        ..Default::default()
    };
    let items = env.api().transpose_content(env.signed(&user, request)).await?.into_inner().contents;
    let keys: Vec<_> = items.iter().map(|c| c.key.clone()).collect();
    assert_eq!(keys, ["Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]);
    let bb = items.iter().find(|c| c.key == "Bb").cloned().unwrap_or_default();
    assert!(bb.music_xml.contains("<fifths>-2</fifths>"));
    // The same notes, moved: as many notes as the source, and the new
    // tonic spelled B-flat, never A-sharp.
    let notes = |xml: &str| xml.matches("<note").count();
    let source_xml = env
        .api()
        .get_content(env.signed(&user, GetContentRequest { id: source.id.clone(), view: ContentView::Full as i32 }))
        .await?
        .into_inner();
    let source_notes = notes(&source_xml.content.map(|c| c.music_xml).unwrap_or_default());
    assert!(source_notes > 0);
    assert_eq!(notes(&bb.music_xml), source_notes);
    let compact: String = bb.music_xml.split_whitespace().collect();
    assert!(compact.contains("<step>B</step><alter>-1</alter>"), "B-flat spelled as such");
    assert!(!compact.contains("<step>A</step><alter>1</alter>"), "never as A-sharp");
    let origin = bb.metadata.and_then(|m| m.fields.get("transposed_from").cloned()).and_then(|v| v.kind);
    assert_eq!(origin, Some(prost_types::value::Kind::StringValue(source.id.clone())));
    let some = TransposeContentRequest {
        id: source.id.clone(),
        target_keys: vec!["F".into(), "C".into(), "E#".into()],
        ..Default::default()
    };
    let items = env.api().transpose_content(env.signed(&user, some)).await?.into_inner().contents;
    assert_eq!(items.iter().map(|c| c.key.clone()).collect::<Vec<_>>(), ["F"]);
    let both =
        TransposeContentRequest { id: source.id, target_keys: vec!["F".into()], all_keys: true, ..Default::default() };
    assert_eq!(
        env.api().transpose_content(env.signed(&user, both)).await.err().map(|s| s.code()),
        Some(Code::InvalidArgument)
    );
    Ok(())
}
