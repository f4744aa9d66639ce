//! A TCP forwarder in front of a peer server that a test can take down (connections refused,
//! ones cut) and bring back, for outages the servers themselves cannot stage.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

pub struct Outage {
    pub base: String,
    down: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Outage {
    /// Listens on a free loopback port and forwards to `target` (`http://127.0.0.1:PORT`).
    pub fn start(target: &str) -> Outage {
        let target: SocketAddr =
            target.trim_start_matches("http://").trim_end_matches('/').parse().expect("http://127.0.0.1:PORT");
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        let down = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (d, s, o) = (down.clone(), stop.clone(), open.clone());
        thread::spawn(move || {
            let mut listener: Option<TcpListener> = None;
            while !s.load(Ordering::SeqCst) {
                if d.load(Ordering::SeqCst) {
                    // Down: no listener (connections are refused), and open ones are cut.
                    listener = None;
                    for c in o.lock().unwrap().drain(..) {
                        let _ = c.shutdown(Shutdown::Both);
                    }
                    thread::sleep(Duration::from_millis(20));
                    continue;
                }
                let l = listener.get_or_insert_with(|| {
                    let l = TcpListener::bind(("127.0.0.1", port)).expect("rebinding the proxy port");
                    l.set_nonblocking(true).unwrap();
                    l
                });
                match l.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let Ok(server) = TcpStream::connect(target) else { continue };
                        o.lock().unwrap().extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
                        pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                        pipe(server, client);
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Outage { base: format!("http://127.0.0.1:{port}"), down, stop, open }
    }

    /// Takes the server away (true) or brings it back (false).
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        thread::sleep(Duration::from_millis(100));
        let _ = &self.open;
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}

impl Drop for Outage {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}
