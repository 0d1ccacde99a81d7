//! WebSocket echo round trips, weir against tokio-tungstenite (placeholder until the
//! benchmark lands).
fn main() {}
