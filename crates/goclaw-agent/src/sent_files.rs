//! Files a run's tools asked to send (`send_file`) join its answer as GoClaw's `MEDIA:<path>`
//! lines, which channels turn into attachments and the gateway into signed links — once each,
//! and not again when the answer already names the file.

/// `answer` with a `MEDIA:` line for each of `files` it does not name yet.
pub(crate) fn with_files(answer: &str, files: &[String]) -> String {
    let mut text = answer.to_owned();
    let mut named: Vec<&str> = Vec::new();
    for file in files {
        let line = format!("MEDIA:{file}");
        if named.contains(&file.as_str()) || answer.lines().any(|l| l.trim() == line) {
            continue;
        }
        named.push(file);
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&line);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_file_is_named_once() {
        let files = vec![
            "/w/a.png".to_owned(),
            "/w/b.pdf".to_owned(),
            "/w/a.png".to_owned(),
        ];
        assert_eq!(
            with_files("Here you go.", &files),
            "Here you go.\nMEDIA:/w/a.png\nMEDIA:/w/b.pdf"
        );
        assert_eq!(
            with_files("Done\nMEDIA:/w/a.png", &files[..1]),
            "Done\nMEDIA:/w/a.png"
        );
        assert_eq!(with_files("", &files[1..2]), "MEDIA:/w/b.pdf");
        assert_eq!(with_files("Nothing sent.", &[]), "Nothing sent.");
    }
}
