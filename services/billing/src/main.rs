//! The billing service binary: `billing [serve | migrate [--status]]`.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    jazz_platform::cli::run(
        jazz_platform::ServiceName::Billing,
        billing::MIGRATIONS,
        billing::build,
        billing::seed::load,
    )
    .await
}
