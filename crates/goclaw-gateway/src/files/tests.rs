//! Who may read which file: the roots, the tenants and the users.

use std::fs;

use goclaw_core::clock::SystemClock;

use super::*;
use crate::auth::Role;

struct Layout {
    _dir: tempfile::TempDir,
    access: FileAccess,
    root: PathBuf,
}

fn layout() -> Layout {
    let dir = tempfile::tempdir().expect("dir");
    let root = fs::canonicalize(dir.path()).expect("canonical");
    let access = FileAccess {
        signer: FileSigner::new(Some("s")),
        workspaces: Some(root.join("workspace")),
        uploads: root.join("media"),
        clock: Arc::new(SystemClock),
    };
    Layout {
        _dir: dir,
        access,
        root,
    }
}

fn file(path: &Path) -> PathBuf {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, b"x").expect("write");
    path.to_path_buf()
}

fn who(role: Role, user: &str, tenant: TenantId) -> Principal {
    Principal {
        role,
        user_id: user.to_owned(),
        tenant_id: tenant,
        scopes: None,
    }
}

#[test]
fn users_read_their_own_directories_and_admins_their_tenant() {
    let l = layout();
    let master = goclaw_core::MASTER_TENANT_ID;
    let other = TenantId::generate();
    let alice = who(Role::Operator, "alice", master);
    let bob = who(Role::Viewer, "bob", master);
    let admin = who(Role::Admin, "root", master);
    let stranger = who(Role::Admin, "carol", other);
    let alices = file(&l.root.join("workspace/assistant/alice/media/a.png"));
    let shared = file(&l.root.join("workspace/assistant/notes.md"));
    let upload = file(&l.access.upload_dir(&alice).join("u.png"));
    let foreign = file(
        &l.root
            .join("workspace/tenants")
            .join(other.to_string())
            .join("bot/carol/x.txt"),
    );

    assert_eq!(l.access.readable(&alice, &alices), Ok(alices.clone()));
    assert_eq!(l.access.readable(&alice, &upload), Ok(upload.clone()));
    assert_eq!(l.access.readable(&alice, &shared), Err(Refusal::Forbidden));
    assert_eq!(l.access.readable(&bob, &alices), Err(Refusal::Forbidden));
    assert_eq!(l.access.readable(&bob, &upload), Err(Refusal::Forbidden));
    assert_eq!(l.access.readable(&admin, &alices), Ok(alices.clone()));
    assert_eq!(l.access.readable(&admin, &upload), Ok(upload.clone()));
    assert_eq!(l.access.readable(&admin, &foreign), Err(Refusal::Forbidden));
    assert_eq!(
        l.access.readable(&stranger, &alices),
        Err(Refusal::Forbidden)
    );
    assert_eq!(
        l.access.readable(&stranger, &upload),
        Err(Refusal::Forbidden)
    );
    assert_eq!(l.access.readable(&stranger, &foreign), Ok(foreign.clone()));
}

#[test]
fn nothing_outside_the_roots_is_served_even_through_a_link() {
    let l = layout();
    let admin = who(Role::Owner, "root", goclaw_core::MASTER_TENANT_ID);
    let outside = file(&l.root.join("secret.txt"));
    assert_eq!(l.access.readable(&admin, &outside), Err(Refusal::NotFound));
    assert_eq!(
        l.access.readable(&admin, Path::new("/etc/passwd")),
        Err(Refusal::NotFound)
    );
    let dotdot = l.root.join("workspace/../secret.txt");
    assert_eq!(l.access.readable(&admin, &dotdot), Err(Refusal::NotFound));
    fs::create_dir_all(l.root.join("workspace/a/root")).expect("mkdir");
    let link = l.root.join("workspace/a/root/link.txt");
    std::os::unix::fs::symlink(&outside, &link).expect("symlink");
    assert_eq!(l.access.readable(&admin, &link), Err(Refusal::NotFound));
    assert_eq!(
        l.access.readable(&admin, Path::new("relative/x")),
        Err(Refusal::NotFound)
    );
    let dir = l.root.join("workspace/a");
    assert_eq!(l.access.readable(&admin, &dir), Err(Refusal::NotFound));
}

#[test]
fn signed_urls_encode_the_path_and_sign_it_unencoded() {
    let l = layout();
    let real = file(&l.root.join("workspace/a/u/my file.png"));
    let url = l.access.signed_file_url(&real);
    let (path, token) = url.split_once("?ft=").expect("a token");
    assert!(path.ends_with("/a/u/my%20file.png"), "{path}");
    assert!(l.access.token_opens(&file_url_path(&real), token));
    assert!(
        !l.access.token_opens(path, token),
        "the encoded form is not what was signed"
    );
}
