//! The gateway binary.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = jazz_platform::telemetry::init("gateway")?;
    let config = gateway::GatewayConfig::from_env()?;
    jazz_platform::cli::serve_metrics(jazz_platform::ServiceName::Gateway).await?;
    let app = gateway::build(config).await?;
    app.run_until_stopped(jazz_platform::server::shutdown_signal()).await
}
