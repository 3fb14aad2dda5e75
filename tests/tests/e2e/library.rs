//! The learner's library through the gateway, as the app uses it: generate
//! practice material, find it, share it, like and save others' items,
//! export it — and the FREE plan's generation limit, counted by billing.

use jazz_contract::jazz::billing::v1 as billing_pb;
use jazz_contract::jazz::content::v1 as pb;
use jazz_contract::jazz::content::v1::content_service_client::ContentServiceClient;
use jazz_e2e::lick_request;
use jazz_e2e::{Suite, bearer};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn learners_generate_find_share_like_save_and_export_through_the_gateway() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    let ann = suite.learner("ann@example.com").await?;
    let bob = suite.learner("bob@example.com").await?;
    let mut content = ContentServiceClient::new(suite.gateway_channel().await?);

    let item = content.generate_content(bearer(lick_request("Bb", 160, "lick-1"), &ann)?).await?.into_inner().content;
    let item = item.ok_or_else(|| anyhow::anyhow!("no content"))?;
    assert!(item.music_xml.contains("<score-partwise"), "MusicXML stored and returned");
    assert!(item.title.contains("B♭") || item.title.contains("Bb"), "{}", item.title);

    // Private: Bob cannot see it, exactly as if it did not exist.
    let hidden =
        content.get_content(bearer(pb::GetContentRequest { id: item.id.clone(), ..Default::default() }, &bob)?).await;
    assert_eq!(hidden.err().map(|s| s.code()), Some(Code::NotFound));

    // Ann shares it; Bob finds it by a word of its title, likes and saves it.
    let shared = pb::GeneratedContent { id: item.id.clone(), is_public: true, ..Default::default() };
    let mask = prost_types::FieldMask { paths: vec!["is_public".into()] };
    content
        .update_content(bearer(pb::UpdateContentRequest { content: Some(shared), update_mask: Some(mask) }, &ann)?)
        .await?;
    let found = content
        .search_content(bearer(pb::SearchContentRequest { query: "bebop lick".into(), ..Default::default() }, &bob)?)
        .await?
        .into_inner();
    assert!(found.results.iter().any(|r| r.content.as_ref().is_some_and(|c| c.id == item.id)), "search finds it");
    let liked = content.like_content(bearer(pb::LikeContentRequest { id: item.id.clone() }, &bob)?).await?.into_inner();
    assert_eq!((liked.likes, liked.liked_by_me), (1, true));
    let liked_again = content.like_content(bearer(pb::LikeContentRequest { id: item.id.clone() }, &bob)?).await?;
    assert_eq!(liked_again.into_inner().likes, 1, "one like per learner");
    let save = pb::SaveContentRequest {
        content_id: item.id.clone(),
        collection_name: "Bebop vocabulary".into(),
        ..Default::default()
    };
    content.save_content(bearer(save, &bob)?).await?;
    let collections =
        content.list_collections(bearer(pb::ListCollectionsRequest::default(), &bob)?).await?.into_inner();
    let bebop = collections.collections.iter().find(|c| c.name == "Bebop vocabulary").map(|c| c.item_count);
    assert_eq!(bebop, Some(1));

    // Export as MusicXML (free on every plan) and, on PRO, as MIDI.
    let export = |format: pb::ExportFormat| pb::ExportContentRequest {
        id: item.id.clone(),
        format: format as i32,
        ..Default::default()
    };
    let file = content.export_content(bearer(export(pb::ExportFormat::Musicxml), &bob)?).await?.into_inner();
    assert!(String::from_utf8_lossy(&file.data).contains("<score-partwise"));
    let free_midi = content.export_content(bearer(export(pb::ExportFormat::Midi), &bob)?).await.err();
    assert_eq!(free_midi.map(|s| s.code()), Some(Code::FailedPrecondition), "MIDI needs a paid plan");
    suite.set_tier("bob@example.com", "PRO").await?;
    let midi = content.export_content(bearer(export(pb::ExportFormat::Midi), &bob)?).await?.into_inner();
    assert!(midi.data.starts_with(b"MThd"), "a Standard MIDI File");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_content_type_is_generated_through_the_gateway() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    let ann = suite.learner("ann@example.com").await?;
    let mut content = ContentServiceClient::new(suite.gateway_channel().await?);
    let types = jazz_e2e::CONTENT_TYPES;
    for (i, kind) in types.into_iter().enumerate() {
        let mut request = lick_request("Bb", 160, &format!("type-{i}"));
        if let Some(parameters) = request.parameters.as_mut() {
            parameters.r#type = kind as i32;
            parameters.style = String::new();
            parameters.tempo_bpm = 0;
        }
        let item = content.generate_content(bearer(request, &ann)?).await?.into_inner().content;
        let item = item.ok_or_else(|| anyhow::anyhow!("no content for {kind:?}"))?;
        assert_eq!(item.r#type, kind as i32);
        assert!(item.music_xml.contains("<score-partwise"), "{kind:?} has MusicXML");
        assert!(item.music_data.is_some(), "{kind:?} has music_data");
    }
    let mine = content.list_my_content(bearer(pb::ListMyContentRequest::default(), &ann)?).await?.into_inner();
    assert_eq!(mine.contents.len(), 6);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generation_stops_at_the_free_limit_and_usage_shows_it() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    let ann = suite.learner("ann@example.com").await?;
    let mut content = ContentServiceClient::new(suite.gateway_channel().await?);
    let mut billing = billing_pb::billing_service_client::BillingServiceClient::new(suite.gateway_channel().await?);

    // seeds/billing/plans.json: FREE has 20 generations a month.
    for i in 0..20 {
        content.generate_content(bearer(lick_request("Bb", 160, &format!("gen-{i}")), &ann)?).await?;
    }
    // A retried call with the same request id is answered, not charged again.
    content.generate_content(bearer(lick_request("Bb", 160, "gen-0"), &ann)?).await?;
    let refused = content.generate_content(bearer(lick_request("Bb", 160, "gen-20"), &ann)?).await.err();
    assert_eq!(refused.map(|s| s.code()), Some(Code::ResourceExhausted));

    let usage = billing.get_usage(bearer(billing_pb::GetUsageRequest {}, &ann)?).await?.into_inner();
    let generation = usage.features.iter().find(|f| f.feature == "ai_generation");
    assert_eq!(generation.map(|f| (f.used, f.limit, f.remaining)), Some((20, 20, 0)));
    Ok(())
}
