//! The MIME type of a file, from its name's extension: what the gateway tells a platform or a
//! browser a file is when nothing better is known.

/// The MIME type of a file from its extension; `application/octet-stream` when unknown.
pub fn mime_of_name(name: &str) -> &'static str {
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "mp3" => "audio/mpeg",
        "ogg" | "oga" => "audio/ogg",
        "wav" => "audio/wav",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "json" => "application/json",
        "csv" => "text/csv",
        "md" => "text/markdown",
        "html" | "htm" => "text/html",
        "txt" | "log" => "text/plain",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_extensions() {
        assert_eq!(mime_of_name("report.txt"), "text/plain");
        assert_eq!(mime_of_name("notes/plan.MD"), "text/markdown");
        assert_eq!(mime_of_name("photo.JPEG"), "image/jpeg");
        assert_eq!(mime_of_name("noext"), "application/octet-stream");
    }
}
