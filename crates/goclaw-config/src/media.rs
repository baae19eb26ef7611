//! The `tts` (text-to-speech) and `audio` (speech-to-text, music) sections.
#![forbid(unsafe_code)]

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Secret;

/// Text-to-speech replies.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct TtsConfig {
    /// Speech provider; unset disables TTS.
    pub provider: Option<TtsProvider>,
    /// When replies are spoken.
    pub auto: TtsAuto,
    /// Which replies are spoken.
    pub mode: TtsMode,
    /// Longest text spoken, in characters.
    pub max_length: u32,
    /// Timeout of one synthesis, in milliseconds.
    pub timeout_ms: u64,
    /// OpenAI voice settings (`GOCLAW_TTS_OPENAI_API_KEY`).
    pub openai: TtsVoiceConfig,
    /// ElevenLabs voice settings (`GOCLAW_TTS_ELEVENLABS_API_KEY`).
    pub elevenlabs: TtsVoiceConfig,
    /// Microsoft Edge voice settings (no key needed).
    pub edge: TtsVoiceConfig,
    /// MiniMax voice settings (`GOCLAW_TTS_MINIMAX_API_KEY`,
    /// `GOCLAW_TTS_MINIMAX_GROUP_ID`).
    pub minimax: TtsVoiceConfig,
    /// Gemini voice settings.
    pub gemini: TtsVoiceConfig,
}

impl Default for TtsConfig {
    fn default() -> Self {
        Self {
            provider: None,
            auto: TtsAuto::default(),
            mode: TtsMode::default(),
            max_length: 1500,
            timeout_ms: 30_000,
            openai: TtsVoiceConfig::default(),
            elevenlabs: TtsVoiceConfig::default(),
            edge: TtsVoiceConfig::default(),
            minimax: TtsVoiceConfig::default(),
            gemini: TtsVoiceConfig::default(),
        }
    }
}

/// Speech providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TtsProvider {
    /// OpenAI speech.
    Openai,
    /// ElevenLabs.
    Elevenlabs,
    /// Microsoft Edge online voices.
    Edge,
    /// MiniMax.
    Minimax,
    /// Google Gemini.
    Gemini,
}

/// When replies are spoken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TtsAuto {
    /// Never automatically.
    #[default]
    Off,
    /// Every reply.
    Always,
    /// When the user sent a voice message.
    Inbound,
    /// When the reply asks for speech with a tag.
    Tagged,
}

/// Which replies are spoken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TtsMode {
    /// Only the final answer.
    #[default]
    Final,
    /// Every message of a run.
    All,
}

/// Settings of one speech provider.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct TtsVoiceConfig {
    /// API key.
    pub api_key: Option<Secret>,
    /// Base URL override.
    pub api_base: Option<String>,
    /// Speech model.
    pub model: Option<String>,
    /// Voice name or ID.
    pub voice: Option<String>,
    /// MiniMax group ID.
    pub group_id: Option<Secret>,
}

/// Audio understanding and generation defaults.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct AudioConfig {
    /// Speech-to-text.
    pub stt: AudioServiceConfig,
    /// Music generation.
    pub music: AudioServiceConfig,
}

/// One audio service.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct AudioServiceConfig {
    /// Provider name.
    pub provider: Option<String>,
    /// API key.
    pub api_key: Option<Secret>,
    /// Base URL override.
    pub base_url: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Language hint (ISO 639-1).
    pub language: Option<String>,
    /// Providers tried, in order, when the main one fails.
    pub fallback: Vec<String>,
    /// Timeout of one request, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for AudioServiceConfig {
    fn default() -> Self {
        Self {
            provider: None,
            api_key: None,
            base_url: None,
            model: None,
            language: None,
            fallback: Vec::new(),
            timeout_ms: 30_000,
        }
    }
}
