//! The pure floor: no files, no sockets, no async runtime, no terminal. Everything here takes
//! bytes or values and returns bytes or values, so it is tested without any IO.

pub mod audio;
pub mod capture;
pub mod convert;
pub mod dtmf;
pub mod dtmf_encode;
pub mod pcap;
pub mod protocol;
pub mod rtp;
pub mod stats;
pub mod upload;
pub mod wav;
