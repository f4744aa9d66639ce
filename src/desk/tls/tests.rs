use super::*;

fn desk(listen: &str) -> Desk {
    Desk { listen: listen.parse().unwrap(), tls: crate::config::DeskTls::SelfSigned, ..Desk::default() }
}

#[test]
fn a_self_signed_certificate_is_made_once_and_kept_with_an_owner_only_key() {
    let dir = tempfile::tempdir().unwrap();
    let first = self_signed(dir.path(), &desk("127.0.0.1:0")).unwrap();
    let (cert, key) = crate::desk::cert_paths(dir.path());
    assert!(cert.exists() && key.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let again = self_signed(dir.path(), &desk("127.0.0.1:0")).unwrap();
    assert_eq!(first.fingerprint, again.fingerprint, "the same certificate after a restart");
    assert_eq!(first.fingerprint.len(), 32 * 3 - 1);
    let der = CertificateDer::pem_file_iter(&cert).unwrap().next().unwrap().unwrap();
    assert_eq!(fingerprint(der.as_ref()), first.fingerprint);
}

#[test]
fn the_names_cover_loopback_the_listen_address_and_the_configured_host() {
    let mut d = desk("192.0.2.10:8443");
    d.url = Some(url::Url::parse("https://desk.example:8443").unwrap());
    let names = subject_names(&d);
    for n in ["localhost", "127.0.0.1", "::1", "192.0.2.10", "desk.example"] {
        assert!(names.contains(&n.to_string()), "{n}: {names:?}");
    }
}

#[test]
fn unreadable_or_mismatched_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let e = from_files(&missing, &missing).err().unwrap().to_string();
    assert!(e.contains("missing.pem"), "{e}");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let e = from_files(&empty, &empty).err().unwrap().to_string();
    assert!(e.contains("holds no PEM certificate"), "{e}");
    // Two self-signed certificates: the first's certificate with the second's key.
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    self_signed(&a, &desk("127.0.0.1:0")).unwrap();
    self_signed(&b, &desk("127.0.0.1:0")).unwrap();
    let (cert_a, _) = crate::desk::cert_paths(&a);
    let (_, key_b) = crate::desk::cert_paths(&b);
    let e = from_files(&cert_a, &key_b).err().unwrap().to_string();
    assert!(e.contains("do not go together"), "{e}");
}
