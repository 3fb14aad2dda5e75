//! The content service binary: `content [serve | migrate [--status]]`.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    jazz_platform::cli::run(
        jazz_platform::ServiceName::Content,
        content::MIGRATIONS,
        content::build,
        jazz_platform::cli::no_seed,
    )
    .await
}
