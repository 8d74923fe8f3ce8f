//! The keypad and `d <digits>`: sent as typed during a call, refused without one, and a
//! server that lacks the extension is heard like any other.


use super::super::command::{parse_line, Command, Parsed};
use super::super::keys::Key;
use super::super::*;
use crate::client::net::NetEvent;
use crate::core::protocol::ClientMsg;

fn app() -> App {
    crate::client::app::connected_test_app(AppConfig::new("ws://test"))
}

fn in_call() -> App {
    let mut a = app();
    let now = a.now;
    a.on_net(NetEvent::Sent(ClientMsg::Call("0938220136".parse().unwrap())), now);
    a.on_net(NetEvent::Status("Call answered".into()), now);
    a
}

fn dtmf(d: &str) -> Effect {
    Effect::Send(ClientMsg::Dtmf(d.parse().unwrap()))
}

#[test]
fn the_keypad_sends_each_key_as_it_is_typed() {
    let mut a = in_call();
    assert!(a.press(Key::Char('d')).is_empty());
    assert!(matches!(&a.dialog, Some(Dialog::Keypad { sent }) if sent.is_empty()));
    assert_eq!(a.press(Key::Char('1')), vec![dtmf("1")]);
    assert_eq!(a.press(Key::Char('#')), vec![dtmf("#")]);
    // Lower-case a-d are the keys A-D; other keys do nothing.
    assert_eq!(a.press(Key::Char('d')), vec![dtmf("D")]);
    assert!(a.press(Key::Char('x')).is_empty());
    assert!(matches!(&a.dialog, Some(Dialog::Keypad { sent }) if sent == "1#D"));
    assert!(a.press(Key::Esc).is_empty());
    assert!(a.dialog.is_none());
}

#[test]
fn without_a_call_the_keypad_is_refused_at_once() {
    let mut a = app();
    assert!(a.press(Key::Char('d')).is_empty());
    assert!(a.dialog.is_none());
    let last = a.log.last().unwrap();
    assert_eq!(last.kind, LogKind::Error);
    assert!(last.text.contains("no call in progress"), "{}", last.text);
    // A call that ends while the keypad is open: the next key closes it, unsent.
    let mut b = in_call();
    b.press(Key::Char('d'));
    let now = b.now;
    b.on_net(NetEvent::Status("Call ended".into()), now);
    assert!(b.press(Key::Char('5')).is_empty());
    assert!(b.dialog.is_none());
}

#[test]
fn line_mode_takes_d_with_digits() {
    assert_eq!(parse_line("d 12#"), Parsed::Run(Command::Dtmf("12#".into())));
    assert_eq!(parse_line("dtmf *9"), Parsed::Run(Command::Dtmf("*9".into())));
    let mut a = in_call();
    assert_eq!(a.command(Command::Dtmf("12#".into())), vec![dtmf("12#")]);
    assert!(a.command(Command::Dtmf("12x".into())).is_empty());
    assert!(a.log.last().unwrap().text.contains("invalid DTMF"));
    let mut idle = app();
    assert!(idle.command(Command::Dtmf("1".into())).is_empty());
    assert!(idle.log.last().unwrap().text.contains("no call in progress"));
}

#[test]
fn a_server_without_the_extension_is_shown_as_it_answers() {
    let mut a = in_call();
    let now = a.now;
    a.on_net(NetEvent::Sent(ClientMsg::Dtmf("5".parse().unwrap())), now);
    a.on_net(NetEvent::Status("Unknown command".into()), now);
    let last = a.log.last().unwrap();
    assert_eq!((last.kind, last.text.as_str()), (LogKind::Server, "Unknown command"));
    // The call goes on.
    assert!(a.call.in_progress());
}
