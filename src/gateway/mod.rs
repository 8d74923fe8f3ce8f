//! The gateway: WebSocket clients on one side, SIP calls and RTP on the other.
//! (Being built: see issue 6.)

/// Flags of `sipdeck gateway`.
#[derive(Debug, Clone, clap::Args)]
pub struct GatewayArgs {
    /// WebSocket listen address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
}

pub async fn run(args: GatewayArgs) -> anyhow::Result<()> {
    anyhow::bail!("the gateway is not built yet (listen {} requested)", args.listen)
}
