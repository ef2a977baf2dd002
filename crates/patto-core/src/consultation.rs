//! The consultation of a Diagnosi: a questionnaire (single and multiple choice, scale,
//! free text) that partners and citizens answer for a period, the answers checked against
//! it, and the results tallied per question.
//!
//! Answers arrive as raw values per question ([`RawAnswers`]: what an HTML form or the API
//! sent, strings only) and are checked whole against the questionnaire: every problem is
//! reported with the question it concerns, so that a form can show each error beside its
//! field and keep what was typed. What is stored is the checked [`Answers`] only, with
//! nothing about who answered.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ConsultationId, DocumentId, PersonId};

use crate::text::{code_point, first_unsafe_in_line, first_unsafe_in_lines};

/// The most questions a questionnaire may hold.
pub const MAX_QUESTIONS: usize = 50;
/// The most options a choice question may offer.
pub const MAX_OPTIONS: usize = 20;
/// The longest a question's text, an option's label or a scale's label may be, in
/// characters.
pub const MAX_LABEL_CHARS: usize = 500;
/// The longest a free-text answer may ever be allowed to be, in characters.
pub const MAX_TEXT_ANSWER_CHARS: u32 = 5000;
/// The widest scale: at most this many points (1..=10, 0..=10).
pub const MAX_SCALE_POINTS: i32 = 11;
/// The longest an id (of a question or an option) may be.
pub const MAX_ID_CHARS: usize = 40;

/// A questionnaire: its questions in the order they are asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Questionnaire {
    /// An introduction shown above the questions (plain text; may be empty).
    #[serde(default)]
    pub introduction: String,
    /// The questions.
    pub questions: Vec<Question>,
}

/// One question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Its stable id (lowercase letters, digits and `-`), which answers and results name.
    pub id: String,
    /// The question as asked.
    pub text: String,
    /// Whether an answer set must answer it.
    #[serde(default)]
    pub required: bool,
    /// What kind of answer it takes.
    #[serde(flatten)]
    pub kind: QuestionKind,
}

/// The kinds of question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QuestionKind {
    /// Exactly one of the options.
    SingleChoice {
        /// The options offered.
        options: Vec<Choice>,
    },
    /// One or more of the options, at most `max_selections` when given.
    MultipleChoice {
        /// The options offered.
        options: Vec<Choice>,
        /// The most options one answer may pick.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_selections: Option<u32>,
    },
    /// A whole number from `min` to `max`, the ends labelled.
    Scale {
        /// The lowest point.
        min: i32,
        /// The highest point.
        max: i32,
        /// What the lowest point means ("per niente").
        min_label: String,
        /// What the highest point means ("moltissimo").
        max_label: String,
    },
    /// Free text of at most `max_length` characters.
    FreeText {
        /// The longest answer, in characters.
        max_length: u32,
    },
}

impl QuestionKind {
    /// The kind's name as stored and shown: `single_choice`, `multiple_choice`, `scale`,
    /// `free_text`.
    pub fn name(&self) -> &'static str {
        match self {
            QuestionKind::SingleChoice { .. } => "single_choice",
            QuestionKind::MultipleChoice { .. } => "multiple_choice",
            QuestionKind::Scale { .. } => "scale",
            QuestionKind::FreeText { .. } => "free_text",
        }
    }
}

/// An option of a choice question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// Its stable id within the question.
    pub id: String,
    /// Its label.
    pub label: String,
}

/// A problem with a questionnaire: which question (when it concerns one) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuestionnaireProblem {
    /// The question's position (from 1) and id, when the problem is in one.
    pub question: Option<(usize, String)>,
    /// What is wrong and what to do.
    pub reason: String,
}

impl std::fmt::Display for QuestionnaireProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.question {
            Some((position, id)) if id.is_empty() => {
                write!(f, "question {position}: {}", self.reason)
            }
            Some((position, id)) => write!(f, "question {position} (`{id}`): {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

fn check_id(what: &str, id: &str) -> Result<(), String> {
    if id.is_empty() || id.chars().count() > MAX_ID_CHARS {
        return Err(format!(
            "the {what} id must have 1 to {MAX_ID_CHARS} characters"
        ));
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(format!(
            "the {what} id `{id}` may hold only lowercase letters, digits and `-`"
        ));
    }
    Ok(())
}

fn check_label(what: &str, text: &str, may_be_empty: bool) -> Result<(), String> {
    if !may_be_empty && text.trim().is_empty() {
        return Err(format!("the {what} is empty; write it"));
    }
    if text.chars().count() > MAX_LABEL_CHARS {
        return Err(format!(
            "the {what} is longer than {MAX_LABEL_CHARS} characters; shorten it"
        ));
    }
    if let Some(c) = first_unsafe_in_line(text) {
        return Err(format!(
            "the {what} holds the control character {}; remove it",
            code_point(c)
        ));
    }
    Ok(())
}

fn check_options(options: &[Choice]) -> Result<(), String> {
    if options.len() < 2 || options.len() > MAX_OPTIONS {
        return Err(format!(
            "a choice question offers 2 to {MAX_OPTIONS} options, not {}",
            options.len()
        ));
    }
    let mut seen = BTreeSet::new();
    for option in options {
        check_id("option", &option.id)?;
        check_label(
            &format!("label of option `{}`", option.id),
            &option.label,
            false,
        )?;
        if !seen.insert(option.id.as_str()) {
            return Err(format!(
                "the option id `{}` is used twice; give each option its own id",
                option.id
            ));
        }
    }
    Ok(())
}

impl Questionnaire {
    /// Checks the questionnaire whole: at least one question and at most
    /// [`MAX_QUESTIONS`], unique ids, non-empty texts without control characters, 2 to
    /// [`MAX_OPTIONS`] options with unique ids, a `max_selections` from 1 to the number
    /// of options, a scale of 2 to [`MAX_SCALE_POINTS`] points, a free-text length from 1
    /// to [`MAX_TEXT_ANSWER_CHARS`]. Every problem is returned, not only the first.
    pub fn check(&self) -> Result<(), Vec<QuestionnaireProblem>> {
        let mut problems = Vec::new();
        if let Err(reason) = check_long_text("introduction", &self.introduction, 5000) {
            problems.push(QuestionnaireProblem {
                question: None,
                reason,
            });
        }
        if self.questions.is_empty() || self.questions.len() > MAX_QUESTIONS {
            problems.push(QuestionnaireProblem {
                question: None,
                reason: format!(
                    "a questionnaire holds 1 to {MAX_QUESTIONS} questions, not {}",
                    self.questions.len()
                ),
            });
        }
        let mut seen = BTreeSet::new();
        for (index, question) in self.questions.iter().enumerate() {
            let mut fail = |reason: String| {
                problems.push(QuestionnaireProblem {
                    question: Some((index + 1, question.id.clone())),
                    reason,
                });
            };
            if let Err(reason) = check_id("question", &question.id) {
                fail(reason);
            } else if !seen.insert(question.id.as_str()) {
                fail(format!(
                    "the question id `{}` is used twice; give each question its own id",
                    question.id
                ));
            }
            if let Err(reason) = check_label("question text", &question.text, false) {
                fail(reason);
            }
            let kind = match &question.kind {
                QuestionKind::SingleChoice { options } => check_options(options),
                QuestionKind::MultipleChoice {
                    options,
                    max_selections,
                } => check_options(options).and_then(|()| match max_selections {
                    Some(max) if *max == 0 || *max as usize > options.len() => Err(format!(
                        "max_selections is {max}; give a number from 1 to the {} options, or none",
                        options.len()
                    )),
                    Some(_) | None => Ok(()),
                }),
                QuestionKind::Scale {
                    min,
                    max,
                    min_label,
                    max_label,
                } => {
                    if min >= max || i64::from(*max) - i64::from(*min) + 1 > MAX_SCALE_POINTS.into()
                    {
                        Err(format!(
                            "a scale goes from min to a greater max with at most {MAX_SCALE_POINTS} points, not {min}..{max}"
                        ))
                    } else {
                        check_label("label of the scale's lowest point", min_label, false).and_then(
                            |()| {
                                check_label("label of the scale's highest point", max_label, false)
                            },
                        )
                    }
                }
                QuestionKind::FreeText { max_length } => {
                    if *max_length == 0 || *max_length > MAX_TEXT_ANSWER_CHARS {
                        Err(format!(
                            "max_length is {max_length}; give a length from 1 to {MAX_TEXT_ANSWER_CHARS} characters"
                        ))
                    } else {
                        Ok(())
                    }
                }
            };
            if let Err(reason) = kind {
                fail(reason);
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// The question with this id.
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    /// Checks raw answers against the questionnaire and returns the answers to store,
    /// or every problem found, each tied to its question. A question left blank (no
    /// value, or only empty values) counts as not answered; required ones must be
    /// answered.
    pub fn check_answers(&self, raw: &RawAnswers) -> Result<Answers, Vec<AnswerProblem>> {
        let mut problems = Vec::new();
        for id in raw.keys() {
            if self.question(id).is_none() {
                problems.push(AnswerProblem {
                    question: id.clone(),
                    reason: AnswerReason::UnknownQuestion,
                });
            }
        }
        let mut answers = BTreeMap::new();
        for question in &self.questions {
            let values: Vec<&str> = raw
                .get(&question.id)
                .map(|values| {
                    values
                        .iter()
                        .map(String::as_str)
                        .filter(|v| !v.trim().is_empty())
                        .collect()
                })
                .unwrap_or_default();
            let mut fail = |reason: AnswerReason| {
                problems.push(AnswerProblem {
                    question: question.id.clone(),
                    reason,
                });
            };
            if values.is_empty() {
                if question.required {
                    fail(AnswerReason::Missing);
                }
                continue;
            }
            match &question.kind {
                QuestionKind::SingleChoice { options } => {
                    if values.len() > 1 {
                        fail(AnswerReason::TooManySelections { max: 1 });
                    } else if let Some(choice) = offered(options, values[0]) {
                        answers.insert(question.id.clone(), Answer::Choice(choice));
                    } else {
                        fail(AnswerReason::OptionNotOffered);
                    }
                }
                QuestionKind::MultipleChoice {
                    options,
                    max_selections,
                } => {
                    let mut picked = BTreeSet::new();
                    let mut unknown = false;
                    for value in &values {
                        match offered(options, value) {
                            Some(choice) => {
                                picked.insert(choice);
                            }
                            None => unknown = true,
                        }
                    }
                    if unknown {
                        fail(AnswerReason::OptionNotOffered);
                    } else if max_selections.is_some_and(|max| picked.len() > max as usize) {
                        fail(AnswerReason::TooManySelections {
                            max: max_selections.unwrap_or_default(),
                        });
                    } else {
                        answers.insert(
                            question.id.clone(),
                            Answer::Choices(picked.into_iter().collect()),
                        );
                    }
                }
                QuestionKind::Scale { min, max, .. } => {
                    match (values.len(), values[0].trim().parse::<i32>()) {
                        (1, Ok(point)) if (*min..=*max).contains(&point) => {
                            answers.insert(question.id.clone(), Answer::Scale(point));
                        }
                        (_, _) => fail(AnswerReason::OutOfScale {
                            min: *min,
                            max: *max,
                        }),
                    }
                }
                QuestionKind::FreeText { max_length } => {
                    let text = values.join("\n");
                    let text = text.trim();
                    if text.chars().count() > *max_length as usize {
                        fail(AnswerReason::TooLong { max: *max_length });
                    } else if let Some(c) = first_unsafe_in_lines(text) {
                        fail(AnswerReason::ControlCharacter(code_point(c)));
                    } else {
                        answers.insert(question.id.clone(), Answer::Text(text.to_owned()));
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        if answers.is_empty() {
            return Err(vec![AnswerProblem {
                question: String::new(),
                reason: AnswerReason::Empty,
            }]);
        }
        Ok(Answers(answers))
    }

    /// Tallies stored answers per question, in the questionnaire's order. Answers to
    /// questions no longer asked are ignored (a questionnaire cannot change once answered,
    /// so there are none).
    pub fn tally<'a>(&self, answer_sets: impl IntoIterator<Item = &'a Answers>) -> Tally {
        let mut results: Vec<QuestionResult> = self
            .questions
            .iter()
            .map(|question| QuestionResult {
                question_id: question.id.clone(),
                text: question.text.clone(),
                answered: 0,
                detail: match &question.kind {
                    QuestionKind::SingleChoice { options }
                    | QuestionKind::MultipleChoice { options, .. } => ResultDetail::Choices(
                        options
                            .iter()
                            .map(|o| OptionCount {
                                option_id: o.id.clone(),
                                label: o.label.clone(),
                                count: 0,
                            })
                            .collect(),
                    ),
                    QuestionKind::Scale {
                        min,
                        max,
                        min_label,
                        max_label,
                    } => ResultDetail::Scale(ScaleResult {
                        min_label: min_label.clone(),
                        max_label: max_label.clone(),
                        distribution: (*min..=*max).map(|point| (point, 0)).collect(),
                        mean: None,
                        median: None,
                    }),
                    QuestionKind::FreeText { .. } => ResultDetail::Texts(Vec::new()),
                },
            })
            .collect();
        let mut respondents = 0;
        for answers in answer_sets {
            respondents += 1;
            for result in &mut results {
                let Some(answer) = answers.0.get(&result.question_id) else {
                    continue;
                };
                result.answered += 1;
                match (&mut result.detail, answer) {
                    (ResultDetail::Choices(counts), Answer::Choice(id)) => {
                        bump(counts, std::slice::from_ref(id));
                    }
                    (ResultDetail::Choices(counts), Answer::Choices(ids)) => bump(counts, ids),
                    (ResultDetail::Scale(scale), Answer::Scale(point)) => {
                        if let Some(slot) = scale.distribution.iter_mut().find(|(p, _)| p == point)
                        {
                            slot.1 += 1;
                        }
                    }
                    (ResultDetail::Texts(texts), Answer::Text(text)) => texts.push(text.clone()),
                    // An answer of another kind than its question cannot be stored (the
                    // answers were checked against this questionnaire); it is not counted.
                    (_, _) => result.answered -= 1,
                }
            }
        }
        for result in &mut results {
            if let ResultDetail::Scale(scale) = &mut result.detail {
                scale.summarise();
            }
        }
        Tally {
            respondents,
            questions: results,
        }
    }
}

fn check_long_text(what: &str, text: &str, max: usize) -> Result<(), String> {
    if text.chars().count() > max {
        return Err(format!(
            "the {what} is longer than {max} characters; shorten it"
        ));
    }
    if let Some(c) = first_unsafe_in_lines(text) {
        return Err(format!(
            "the {what} holds the control character {}; remove it",
            code_point(c)
        ));
    }
    Ok(())
}

fn offered(options: &[Choice], value: &str) -> Option<String> {
    options
        .iter()
        .find(|o| o.id == value.trim())
        .map(|o| o.id.clone())
}

fn bump(counts: &mut [OptionCount], ids: &[String]) {
    for id in ids {
        if let Some(count) = counts.iter_mut().find(|c| &c.option_id == id) {
            count.count += 1;
        }
    }
}

/// Raw answers as submitted: the values given per question id (the option ids picked, a
/// scale point, a text), strings only.
pub type RawAnswers = BTreeMap<String, Vec<String>>;

/// A checked answer set, as stored: one answer per answered question. It holds only what
/// the questionnaire asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Answers(pub BTreeMap<String, Answer>);

impl Answers {
    /// The answers as stored: canonical JSON (RFC 8785).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_jcs::to_string(self)
    }

    /// Reads stored answers back.
    pub fn parse(json: &str) -> Result<Answers, serde_json::Error> {
        serde_json::from_str(json)
    }
}

/// One answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Answer {
    /// The option picked.
    Choice(String),
    /// The options picked, sorted.
    Choices(Vec<String>),
    /// The scale point.
    Scale(i32),
    /// The text.
    Text(String),
}

/// A problem with one answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnswerProblem {
    /// The question's id (empty when the problem is with the whole set).
    pub question: String,
    /// Why.
    pub reason: AnswerReason,
}

/// Why an answer was refused. The portal words each reason in Italian or English; the
/// API shows [`AnswerProblem`]'s English text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnswerReason {
    /// The questionnaire has no such question.
    UnknownQuestion,
    /// A required question was not answered.
    Missing,
    /// A value is not one of the options offered.
    OptionNotOffered,
    /// More options picked than allowed.
    TooManySelections {
        /// The most allowed.
        max: u32,
    },
    /// Not a whole number on the scale.
    OutOfScale {
        /// The lowest point.
        min: i32,
        /// The highest point.
        max: i32,
    },
    /// The text is longer than allowed.
    TooLong {
        /// The most characters allowed.
        max: u32,
    },
    /// The text holds a control character (named `U+XXXX`).
    ControlCharacter(String),
    /// Nothing was answered at all.
    Empty,
}

impl std::fmt::Display for AnswerProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let reason = match &self.reason {
            AnswerReason::UnknownQuestion => {
                "the questionnaire has no such question; answer only the questions it asks"
                    .to_owned()
            }
            AnswerReason::Missing => "this question must be answered".to_owned(),
            AnswerReason::OptionNotOffered => {
                "the answer is not one of the options offered; pick an option id of the question"
                    .to_owned()
            }
            AnswerReason::TooManySelections { max } => {
                format!("pick at most {max} options")
            }
            AnswerReason::OutOfScale { min, max } => {
                format!("give one whole number from {min} to {max}")
            }
            AnswerReason::TooLong { max } => {
                format!("the text is longer than {max} characters; shorten it")
            }
            AnswerReason::ControlCharacter(c) => {
                format!("the text holds the control character {c}; remove it")
            }
            AnswerReason::Empty => "no question was answered; answer at least one".to_owned(),
        };
        if self.question.is_empty() {
            f.write_str(&reason)
        } else {
            write!(f, "question `{}`: {reason}", self.question)
        }
    }
}

/// The tally of a set of answers.
#[derive(Clone, Debug, PartialEq)]
pub struct Tally {
    /// How many answer sets were counted.
    pub respondents: u32,
    /// Per question, in the questionnaire's order.
    pub questions: Vec<QuestionResult>,
}

/// The results of one question.
#[derive(Clone, Debug, PartialEq)]
pub struct QuestionResult {
    /// The question's id.
    pub question_id: String,
    /// The question as asked.
    pub text: String,
    /// How many answer sets answered it.
    pub answered: u32,
    /// The counts.
    pub detail: ResultDetail,
}

/// The counts of one question, by kind.
#[derive(Clone, Debug, PartialEq)]
pub enum ResultDetail {
    /// How many picked each option.
    Choices(Vec<OptionCount>),
    /// The scale's distribution, mean and median.
    Scale(ScaleResult),
    /// The texts given.
    Texts(Vec<String>),
}

/// How many picked one option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionCount {
    /// The option's id.
    pub option_id: String,
    /// Its label.
    pub label: String,
    /// How many picked it.
    pub count: u32,
}

/// A scale question's results.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleResult {
    /// What the lowest point means.
    pub min_label: String,
    /// What the highest point means.
    pub max_label: String,
    /// How many gave each point, lowest first.
    pub distribution: Vec<(i32, u32)>,
    /// The mean of the points given; `None` without answers.
    pub mean: Option<f64>,
    /// The median of the points given; `None` without answers.
    pub median: Option<f64>,
}

impl ScaleResult {
    fn summarise(&mut self) {
        let total: u32 = self.distribution.iter().map(|(_, n)| n).sum();
        if total == 0 {
            return;
        }
        let sum: f64 = self
            .distribution
            .iter()
            .map(|(point, n)| f64::from(*point) * f64::from(*n))
            .sum();
        self.mean = Some(sum / f64::from(total));
        // The median of the sorted points: the middle one, or the mean of the two middle
        // ones when there is an even number.
        let nth = |k: u32| -> f64 {
            let mut seen = 0;
            for (point, n) in &self.distribution {
                seen += n;
                if seen > k {
                    return f64::from(*point);
                }
            }
            0.0
        };
        self.median = Some(if total % 2 == 1 {
            nth(total / 2)
        } else {
            (nth(total / 2 - 1) + nth(total / 2)) / 2.0
        });
    }
}

/// Who answered: the two groups whose results are kept apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Audience {
    /// A partner organisation, through its personal link.
    Partner,
    /// A citizen, anonymously, through the public link.
    Citizen,
}

impl Audience {
    /// The stored name: `partner` or `citizen`.
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Partner => "partner",
            Audience::Citizen => "citizen",
        }
    }

    /// The audience with this stored name.
    pub fn from_name(name: &str) -> Option<Audience> {
        match name {
            "partner" => Some(Audience::Partner),
            "citizen" => Some(Audience::Citizen),
            _ => None,
        }
    }
}

/// A stored consultation: the questionnaire of a Diagnosi and its period.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsultationRecord {
    /// Its id.
    pub id: ConsultationId,
    /// The Diagnosi it belongs to.
    pub document_id: DocumentId,
    /// The questionnaire.
    pub questionnaire: Questionnaire,
    /// The unguessable part of the public link (`/consultazioni/{slug}`).
    pub public_slug: String,
    /// When answers start being accepted; `None` until opened.
    pub opens_at: Option<DateTime<Utc>>,
    /// When answers stop being accepted; `None` until opened.
    pub closes_at: Option<DateTime<Utc>>,
    /// The sequence number of the audit event that moved the document into
    /// `consultation` when the consultation was opened; `None` until opened. Any later
    /// transition of the document closes the consultation.
    pub opened_seq: Option<i64>,
    /// When a coordinator closed it (or the engine recorded that it had closed).
    pub closed_at: Option<DateTime<Utc>>,
    /// Who last changed it.
    pub updated_by: Option<PersonId>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A stored answer set: the audience and the checked answers, nothing else.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredAnswers {
    /// Who answered, as a group.
    pub audience: Audience,
    /// The answers.
    pub answers: Answers,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Questionnaire {
        serde_json::from_value(serde_json::json!({
            "introduction": "",
            "questions": [
                {"id": "problema", "text": "Il problema più sentito?", "required": true,
                 "kind": "single_choice", "options": [
                    {"id": "furti", "label": "Furti"}, {"id": "spaccio", "label": "Spaccio"}]},
                {"id": "luoghi", "text": "Dove?", "kind": "multiple_choice", "max_selections": 2,
                 "options": [{"id": "centro", "label": "Centro"}, {"id": "periferia", "label": "Periferia"},
                             {"id": "campagna", "label": "Campagna"}]},
                {"id": "sicurezza", "text": "Quanto ti senti sicuro?", "kind": "scale",
                 "min": 1, "max": 5, "min_label": "Per niente", "max_label": "Del tutto"},
                {"id": "note", "text": "Altro?", "kind": "free_text", "max_length": 10}
            ]
        }))
        .unwrap()
    }

    fn raw(pairs: &[(&str, &[&str])]) -> RawAnswers {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn a_good_questionnaire_passes_and_bad_ones_name_each_problem() {
        assert!(sample().check().is_ok());
        let mut bad = sample();
        bad.questions[1].id = "problema".to_owned();
        bad.questions[2].kind = QuestionKind::Scale {
            min: 5,
            max: 5,
            min_label: "a".into(),
            max_label: "b".into(),
        };
        bad.questions[3].text = "riga\u{1b}[2J".into();
        let problems = bad.check().unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert_eq!(problems[0].question, Some((2, "problema".to_owned())));
        assert!(problems[0].to_string().contains("used twice"));
        assert!(problems[1].to_string().contains("scale"));
        assert!(problems[2].to_string().contains("U+001B"));
        let mut too_many = sample();
        too_many.questions[1].kind = QuestionKind::MultipleChoice {
            options: vec![
                Choice {
                    id: "a".into(),
                    label: "A".into(),
                },
                Choice {
                    id: "b".into(),
                    label: "B".into(),
                },
            ],
            max_selections: Some(3),
        };
        assert!(
            too_many.check().unwrap_err()[0]
                .reason
                .contains("max_selections")
        );
        let empty = Questionnaire {
            introduction: String::new(),
            questions: vec![],
        };
        assert!(empty.check().is_err());
    }

    #[test]
    fn answers_are_checked_against_the_questionnaire() {
        let q = sample();
        let answers = q
            .check_answers(&raw(&[
                ("problema", &["furti"]),
                ("luoghi", &["periferia", "centro"]),
                ("sicurezza", &["4"]),
                ("note", &[" poca luce "]),
            ]))
            .unwrap();
        assert_eq!(
            answers.0["luoghi"],
            Answer::Choices(vec!["centro".into(), "periferia".into()])
        );
        assert_eq!(answers.0["note"], Answer::Text("poca luce".into()));
        assert_eq!(
            Answers::parse(&answers.to_json().unwrap()).unwrap(),
            answers
        );

        let problems = q
            .check_answers(&raw(&[
                ("boh", &["x"]),
                ("luoghi", &["centro", "periferia", "campagna"]),
                ("sicurezza", &["9"]),
                ("note", &["troppo lungo davvero"]),
            ]))
            .unwrap_err();
        let reasons: Vec<_> = problems
            .iter()
            .map(|p| (p.question.as_str(), &p.reason))
            .collect();
        assert_eq!(
            reasons,
            vec![
                ("boh", &AnswerReason::UnknownQuestion),
                ("problema", &AnswerReason::Missing),
                ("luoghi", &AnswerReason::TooManySelections { max: 2 }),
                ("sicurezza", &AnswerReason::OutOfScale { min: 1, max: 5 }),
                ("note", &AnswerReason::TooLong { max: 10 }),
            ]
        );
        let problems = q
            .check_answers(&raw(&[("problema", &["rapine"]), ("note", &["a\u{7}b"])]))
            .unwrap_err();
        assert_eq!(problems[0].reason, AnswerReason::OptionNotOffered);
        assert_eq!(
            problems[1].reason,
            AnswerReason::ControlCharacter("U+0007".into())
        );
        assert!(
            q.check_answers(&raw(&[("sicurezza", &["2.5"]), ("problema", &["furti"])]))
                .is_err()
        );
    }

    #[test]
    fn tallies_count_options_and_summarise_scales() {
        let q = sample();
        let sets: Vec<Answers> = [
            (&["furti"][..], "1", "uno"),
            (&["spaccio"][..], "2", ""),
            (&["furti"][..], "4", ""),
            (&["furti"][..], "5", "due"),
        ]
        .iter()
        .map(|(p, s, n)| {
            q.check_answers(&raw(&[
                ("problema", p),
                ("sicurezza", &[s]),
                ("note", &[n]),
            ]))
            .unwrap()
        })
        .collect();
        let tally = q.tally(&sets);
        assert_eq!(tally.respondents, 4);
        let ResultDetail::Choices(counts) = &tally.questions[0].detail else {
            panic!()
        };
        assert_eq!(
            counts.iter().map(|c| c.count).collect::<Vec<_>>(),
            vec![3, 1]
        );
        assert_eq!(tally.questions[1].answered, 0);
        let ResultDetail::Scale(scale) = &tally.questions[2].detail else {
            panic!()
        };
        assert_eq!(scale.mean, Some(3.0));
        assert_eq!(scale.median, Some(3.0));
        assert_eq!(scale.distribution[3], (4, 1));
        let ResultDetail::Texts(texts) = &tally.questions[3].detail else {
            panic!()
        };
        assert_eq!(texts, &vec!["uno".to_owned(), "due".to_owned()]);
        assert_eq!(tally.questions[3].answered, 2);
    }
}
