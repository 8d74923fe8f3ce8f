//! The call behind a session, as the session sees it: a backend shared by every client of a
//! server ([`CallBackend`]) that opens one [`CallLine`] per client. The gateway's line places
//! SIP calls (`server::sip`); the demo's simulates them (`server::demo`).

use std::future::Future;
use std::time::Duration;

use crate::core::protocol::{DtmfDigits, Number, WavName};
use crate::server::outbox::ClientOutbox;

/// What a server puts behind its sessions.
pub trait CallBackend: Send + Sync + 'static {
    type Line: CallLine;

    /// The line of one new client; everything it has to say goes to `out`.
    fn open_line(&self, out: ClientOutbox) -> Self::Line;
}

/// One client's telephone line. The session has already checked the command: `dial` is only
/// called with no call in progress, `hangup` only with one.
pub trait CallLine: Send + 'static {
    /// Whether a call is in progress (dialling, ringing or answered).
    fn in_call(&mut self) -> bool;

    /// Place a call; its progress goes to the client as status lines.
    fn dial(&mut self, number: Number) -> impl Future<Output = ()> + Send;

    /// End the call in progress; the line that says so goes to the client.
    fn hangup(&mut self) -> impl Future<Output = ()> + Send;

    /// Whether `PLAY_WAV` can be served now; `Err` says why not (checked before the file
    /// is read).
    fn can_play(&mut self) -> Result<(), String>;

    /// Stream 8 kHz mono mu-law to where this line's audio goes.
    fn play(&mut self, name: WavName, ulaw: Vec<u8>) -> impl Future<Output = ()> + Send;

    /// Send DTMF digits into the call in progress (sipdeck's `DTMF:` extension); the line
    /// that says how it went (`DTMF sent: ...` or `Error: ...`) goes to the client.
    fn dtmf(&mut self, digits: DtmfDigits) -> impl Future<Output = ()> + Send;

    /// The client is gone or the server stops: hang up, waiting at most `grace`.
    fn close(self, grace: Duration) -> impl Future<Output = ()> + Send;
}
