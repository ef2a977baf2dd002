//! The consultation of a Diagnosi: its coordinators write the questionnaire, open and
//! close it and send the partners' links; partners answer with their link's token (the
//! token is the credential, no login), citizens through the public slug; results are
//! read by slug (coordinators at any time, anyone once it closed).

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use patto_core::consultation::{
    self as core, Choice, Question, QuestionKind, Questionnaire, RawAnswers, ResultDetail,
};
use patto_core::ids::DocumentId;
use patto_engine::{ConsultationView, PartnerLinksSent, PublicConsultation};

use super::login::client;
use super::mutation::acting;
use super::{id_of, request};
use crate::error::{ApiError, ApiResult, engine};

/// The queries of consultations.
#[derive(Default)]
pub struct ConsultationQuery;

/// The mutations of consultations.
#[derive(Default)]
pub struct ConsultationMutation;

/// The kinds of question.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum QuestionKindName {
    /// Exactly one option.
    SingleChoice,
    /// One or more options, at most `maxSelections`.
    MultipleChoice,
    /// A whole number from `min` to `max`.
    Scale,
    /// Free text of at most `maxLength` characters.
    FreeText,
}

/// Where a consultation stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ConsultationState {
    /// Being written.
    Draft,
    /// Opened, its period not begun.
    Scheduled,
    /// Taking answers.
    Open,
    /// Closed: results are public.
    Closed,
}

impl From<patto_engine::ConsultationStatus> for ConsultationState {
    fn from(status: patto_engine::ConsultationStatus) -> Self {
        match status {
            patto_engine::ConsultationStatus::Draft => ConsultationState::Draft,
            patto_engine::ConsultationStatus::Scheduled => ConsultationState::Scheduled,
            patto_engine::ConsultationStatus::Open => ConsultationState::Open,
            patto_engine::ConsultationStatus::Closed => ConsultationState::Closed,
        }
    }
}

/// An option of a choice question.
#[derive(InputObject, SimpleObject, Clone)]
#[graphql(input_name = "ChoiceInput")]
pub struct ChoiceOption {
    /// Its stable id within the question (lowercase letters, digits, `-`).
    pub id: String,
    /// Its label.
    pub label: String,
}

/// A question to write. Which fields apply depends on `kind`: `options` (and
/// `maxSelections`) for choices, `min`, `max`, `minLabel`, `maxLabel` for a scale,
/// `maxLength` for free text.
#[derive(InputObject)]
pub struct QuestionInput {
    /// Its stable id (lowercase letters, digits, `-`).
    pub id: String,
    /// The question as asked.
    pub text: String,
    /// Whether it must be answered.
    #[graphql(default)]
    pub required: bool,
    /// What kind of answer it takes.
    pub kind: QuestionKindName,
    /// The options of a choice question.
    pub options: Option<Vec<ChoiceOption>>,
    /// The most options a multiple-choice answer may pick.
    pub max_selections: Option<i32>,
    /// A scale's lowest point.
    pub min: Option<i32>,
    /// A scale's highest point.
    pub max: Option<i32>,
    /// What a scale's lowest point means.
    pub min_label: Option<String>,
    /// What a scale's highest point means.
    pub max_label: Option<String>,
    /// The longest free-text answer, in characters.
    pub max_length: Option<i32>,
}

/// A questionnaire to write.
#[derive(InputObject)]
pub struct QuestionnaireInput {
    /// An introduction shown above the questions.
    #[graphql(default)]
    pub introduction: String,
    /// The questions, in order.
    pub questions: Vec<QuestionInput>,
}

fn missing(question: &str, field: &str) -> async_graphql::Error {
    ApiError::Validation(format!(
        "question `{question}` needs `{field}` for its kind"
    ))
    .into()
}

impl QuestionInput {
    fn into_question(self) -> ApiResult<Question> {
        let id = self.id;
        let options = |options: Option<Vec<ChoiceOption>>| -> ApiResult<Vec<Choice>> {
            Ok(options
                .ok_or_else(|| missing(&id, "options"))?
                .into_iter()
                .map(|o| Choice {
                    id: o.id,
                    label: o.label,
                })
                .collect())
        };
        let kind = match self.kind {
            QuestionKindName::SingleChoice => QuestionKind::SingleChoice {
                options: options(self.options)?,
            },
            QuestionKindName::MultipleChoice => QuestionKind::MultipleChoice {
                options: options(self.options)?,
                max_selections: self.max_selections.map(|n| u32::try_from(n).unwrap_or(0)),
            },
            QuestionKindName::Scale => QuestionKind::Scale {
                min: self.min.ok_or_else(|| missing(&id, "min"))?,
                max: self.max.ok_or_else(|| missing(&id, "max"))?,
                min_label: self.min_label.ok_or_else(|| missing(&id, "minLabel"))?,
                max_label: self.max_label.ok_or_else(|| missing(&id, "maxLabel"))?,
            },
            QuestionKindName::FreeText => QuestionKind::FreeText {
                max_length: u32::try_from(
                    self.max_length.ok_or_else(|| missing(&id, "maxLength"))?,
                )
                .unwrap_or(0),
            },
        };
        Ok(Question {
            id,
            text: self.text,
            required: self.required,
            kind,
        })
    }
}

/// One question's answer: the option ids picked, a scale point or a text, as strings.
#[derive(InputObject)]
pub struct AnswerInput {
    /// The question's id.
    pub question: String,
    /// The values: option ids, one scale point, or one text.
    pub values: Vec<String>,
}

fn raw_answers(answers: Vec<AnswerInput>) -> RawAnswers {
    let mut raw = RawAnswers::new();
    for answer in answers {
        raw.entry(answer.question)
            .or_default()
            .extend(answer.values);
    }
    raw
}

/// A question as asked.
#[derive(SimpleObject)]
pub struct QuestionView {
    /// Its stable id.
    pub id: String,
    /// The question.
    pub text: String,
    /// Whether it must be answered.
    pub required: bool,
    /// Its kind.
    pub kind: QuestionKindName,
    /// The options of a choice question (empty otherwise).
    pub options: Vec<ChoiceOption>,
    /// The most options a multiple-choice answer may pick.
    pub max_selections: Option<i32>,
    /// A scale's lowest point.
    pub min: Option<i32>,
    /// A scale's highest point.
    pub max: Option<i32>,
    /// What a scale's lowest point means.
    pub min_label: Option<String>,
    /// What a scale's highest point means.
    pub max_label: Option<String>,
    /// The longest free-text answer.
    pub max_length: Option<i32>,
}

fn question_view(question: &Question) -> QuestionView {
    let mut view = QuestionView {
        id: question.id.clone(),
        text: question.text.clone(),
        required: question.required,
        kind: QuestionKindName::FreeText,
        options: Vec::new(),
        max_selections: None,
        min: None,
        max: None,
        min_label: None,
        max_label: None,
        max_length: None,
    };
    let options = |options: &[Choice]| {
        options
            .iter()
            .map(|o| ChoiceOption {
                id: o.id.clone(),
                label: o.label.clone(),
            })
            .collect()
    };
    match &question.kind {
        QuestionKind::SingleChoice { options: o } => {
            view.kind = QuestionKindName::SingleChoice;
            view.options = options(o);
        }
        QuestionKind::MultipleChoice {
            options: o,
            max_selections,
        } => {
            view.kind = QuestionKindName::MultipleChoice;
            view.options = options(o);
            view.max_selections = max_selections.map(|n| i32::try_from(n).unwrap_or(i32::MAX));
        }
        QuestionKind::Scale {
            min,
            max,
            min_label,
            max_label,
        } => {
            view.kind = QuestionKindName::Scale;
            view.min = Some(*min);
            view.max = Some(*max);
            view.min_label = Some(min_label.clone());
            view.max_label = Some(max_label.clone());
        }
        QuestionKind::FreeText { max_length } => {
            view.max_length = Some(i32::try_from(*max_length).unwrap_or(i32::MAX));
        }
    }
    view
}

/// A questionnaire.
#[derive(SimpleObject)]
pub struct QuestionnaireView {
    /// The introduction.
    pub introduction: String,
    /// The questions, in order.
    pub questions: Vec<QuestionView>,
}

fn questionnaire_view(questionnaire: &Questionnaire) -> QuestionnaireView {
    QuestionnaireView {
        introduction: questionnaire.introduction.clone(),
        questions: questionnaire.questions.iter().map(question_view).collect(),
    }
}

/// A consultation as its coordinators see it.
#[derive(SimpleObject)]
pub struct Consultation {
    /// The diagnosis's id.
    pub diagnosis: ID,
    /// The diagnosis's slug.
    pub diagnosis_slug: String,
    /// The unguessable part of the public link, `/consultazioni/{publicSlug}`.
    pub public_slug: String,
    /// Where it stands.
    pub state: ConsultationState,
    /// When it takes answers from.
    pub opens_at: Option<DateTime<Utc>>,
    /// When it stops taking answers.
    pub closes_at: Option<DateTime<Utc>>,
    /// When its closing was recorded.
    pub closed_at: Option<DateTime<Utc>>,
    /// The questionnaire.
    pub questionnaire: QuestionnaireView,
    /// How many partner organisations were sent a link.
    pub links_sent: i32,
    /// How many of those links were used.
    pub links_used: i32,
}

impl From<ConsultationView> for Consultation {
    fn from(view: ConsultationView) -> Self {
        Consultation {
            diagnosis: ID(view.document.id.to_string()),
            diagnosis_slug: view.document.slug,
            public_slug: view.record.public_slug,
            state: view.status.into(),
            opens_at: view.record.opens_at,
            closes_at: view.record.closes_at,
            closed_at: view.record.closed_at,
            questionnaire: questionnaire_view(&view.record.questionnaire),
            links_sent: i32::try_from(view.links_sent).unwrap_or(i32::MAX),
            links_used: i32::try_from(view.links_used).unwrap_or(i32::MAX),
        }
    }
}

/// A consultation as its public link shows it.
#[derive(SimpleObject)]
pub struct PublicConsultationView {
    /// The diagnosis's title.
    pub title: String,
    /// The public slug.
    pub public_slug: String,
    /// Where it stands.
    pub state: ConsultationState,
    /// When it takes answers from.
    pub opens_at: Option<DateTime<Utc>>,
    /// When it stops taking answers.
    pub closes_at: Option<DateTime<Utc>>,
    /// The questionnaire.
    pub questionnaire: QuestionnaireView,
    /// With a partner's token: whether the link was used.
    pub link_used: Option<bool>,
    /// With a partner's token: the partner organisation's name.
    pub partner_name: Option<String>,
}

impl From<PublicConsultation> for PublicConsultationView {
    fn from(view: PublicConsultation) -> Self {
        PublicConsultationView {
            title: view.title,
            public_slug: view.public_slug,
            state: view.status.into(),
            opens_at: view.opens_at,
            closes_at: view.closes_at,
            questionnaire: questionnaire_view(&view.questionnaire),
            link_used: view.link_used,
            partner_name: view.partner_name,
        }
    }
}

/// What sending the partners' links did, by organisation slug.
#[derive(SimpleObject)]
pub struct PartnerLinks {
    /// Sent a link now.
    pub sent: Vec<String>,
    /// Had a link already; nothing sent again.
    pub already_sent: Vec<String>,
    /// Without a coordinator to send it to.
    pub unreachable: Vec<String>,
}

impl From<PartnerLinksSent> for PartnerLinks {
    fn from(sent: PartnerLinksSent) -> Self {
        let slugs = |list: Vec<patto_core::records::Organisation>| {
            list.into_iter().map(|o| o.slug).collect()
        };
        PartnerLinks {
            sent: slugs(sent.sent),
            already_sent: slugs(sent.already_sent),
            unreachable: slugs(sent.unreachable),
        }
    }
}

/// How many picked one option.
#[derive(SimpleObject)]
pub struct OptionResult {
    /// The option's id.
    pub option: String,
    /// Its label.
    pub label: String,
    /// How many picked it.
    pub count: i32,
}

/// How many gave one scale point.
#[derive(SimpleObject)]
pub struct ScalePoint {
    /// The point.
    pub point: i32,
    /// How many gave it.
    pub count: i32,
}

/// One question's results.
#[derive(SimpleObject)]
pub struct QuestionResultView {
    /// The question's id.
    pub question: String,
    /// The question.
    pub text: String,
    /// How many answered it.
    pub answered: i32,
    /// Per option, for choice questions.
    pub options: Vec<OptionResult>,
    /// The distribution, for a scale.
    pub distribution: Vec<ScalePoint>,
    /// The mean point, for a scale with answers.
    pub mean: Option<f64>,
    /// The median point, for a scale with answers.
    pub median: Option<f64>,
    /// The free texts given: for the coordinators only, empty for anyone else.
    pub texts: Vec<String>,
}

/// The tally of one audience.
#[derive(SimpleObject)]
pub struct TallyView {
    /// How many answered.
    pub respondents: i32,
    /// Per question.
    pub questions: Vec<QuestionResultView>,
}

fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn tally_view(tally: core::Tally) -> TallyView {
    TallyView {
        respondents: count(tally.respondents),
        questions: tally
            .questions
            .into_iter()
            .map(|q| {
                let mut view = QuestionResultView {
                    question: q.question_id,
                    text: q.text,
                    answered: count(q.answered),
                    options: Vec::new(),
                    distribution: Vec::new(),
                    mean: None,
                    median: None,
                    texts: Vec::new(),
                };
                match q.detail {
                    ResultDetail::Choices(options) => {
                        view.options = options
                            .into_iter()
                            .map(|o| OptionResult {
                                option: o.option_id,
                                label: o.label,
                                count: count(o.count),
                            })
                            .collect();
                    }
                    ResultDetail::Scale(scale) => {
                        view.distribution = scale
                            .distribution
                            .into_iter()
                            .map(|(point, n)| ScalePoint {
                                point,
                                count: count(n),
                            })
                            .collect();
                        view.mean = scale.mean;
                        view.median = scale.median;
                    }
                    ResultDetail::Texts(texts) => view.texts = texts,
                }
                view
            })
            .collect(),
    }
}

/// The aggregated results of a consultation, partners and citizens apart.
#[derive(SimpleObject)]
pub struct ConsultationResultsView {
    /// The consultation.
    pub consultation: PublicConsultationView,
    /// The partners' answers.
    pub partners: TallyView,
    /// The citizens' answers.
    pub citizens: TallyView,
    /// Whether the free texts are included (for the coordinators only).
    pub texts_included: bool,
}

#[Object]
impl ConsultationQuery {
    /// The consultation of a diagnosis, for its coordinators.
    async fn consultation(&self, ctx: &Context<'_>, diagnosis: ID) -> ApiResult<Consultation> {
        let cx = request(ctx)?;
        let id: DocumentId = id_of("diagnosis", &diagnosis)?;
        engine(cx.engine.consultation(cx.actor, id).await).map(Consultation::from)
    }

    /// A consultation by its public slug, as its form shows it (anyone, once opened).
    /// With a partner's `token`, whether that link was used.
    async fn public_consultation(
        &self,
        ctx: &Context<'_>,
        slug: String,
        token: Option<String>,
    ) -> ApiResult<PublicConsultationView> {
        let cx = request(ctx)?;
        engine(cx.engine.public_consultation(&slug, token.as_deref()).await)
            .map(PublicConsultationView::from)
    }

    /// The results of a consultation: its coordinators at any time (free texts
    /// included), anyone once it closed (without the free texts).
    async fn consultation_results(
        &self,
        ctx: &Context<'_>,
        slug: String,
    ) -> ApiResult<ConsultationResultsView> {
        let cx = request(ctx)?;
        let results = engine(cx.engine.consultation_results(cx.actor, &slug).await)?;
        Ok(ConsultationResultsView {
            consultation: results.consultation.into(),
            partners: tally_view(results.partners),
            citizens: tally_view(results.citizens),
            texts_included: results.texts_included,
        })
    }
}

#[Object]
impl ConsultationMutation {
    /// Writes the questionnaire of a diagnosis's consultation (its coordinators, while
    /// the diagnosis is drafting and the consultation was never opened).
    async fn save_questionnaire(
        &self,
        ctx: &Context<'_>,
        diagnosis: ID,
        questionnaire: QuestionnaireInput,
    ) -> ApiResult<Consultation> {
        let (cx, actor) = acting(ctx)?;
        let id: DocumentId = id_of("diagnosis", &diagnosis)?;
        let questionnaire = Questionnaire {
            introduction: questionnaire.introduction,
            questions: questionnaire
                .questions
                .into_iter()
                .map(QuestionInput::into_question)
                .collect::<ApiResult<_>>()?,
        };
        engine(cx.engine.save_questionnaire(actor, id, questionnaire).await).map(Consultation::from)
    }

    /// Opens the consultation for a period and fires the diagnosis's
    /// `open_consultation` transition with it (its coordinators, once).
    async fn open_consultation(
        &self,
        ctx: &Context<'_>,
        diagnosis: ID,
        opens_at: DateTime<Utc>,
        closes_at: DateTime<Utc>,
    ) -> ApiResult<Consultation> {
        let (cx, actor) = acting(ctx)?;
        let id: DocumentId = id_of("diagnosis", &diagnosis)?;
        engine(
            cx.engine
                .open_consultation(actor, id, opens_at, closes_at)
                .await,
        )
        .map(Consultation::from)
    }

    /// Closes the consultation now, or records that it closed (its coordinators).
    async fn close_consultation(
        &self,
        ctx: &Context<'_>,
        diagnosis: ID,
    ) -> ApiResult<Consultation> {
        let (cx, actor) = acting(ctx)?;
        let id: DocumentId = id_of("diagnosis", &diagnosis)?;
        engine(cx.engine.close_consultation(actor, id).await).map(Consultation::from)
    }

    /// Mails each partner organisation's coordinators its personal link (its
    /// coordinators, while the consultation is opened).
    async fn send_partner_links(
        &self,
        ctx: &Context<'_>,
        diagnosis: ID,
    ) -> ApiResult<PartnerLinks> {
        let (cx, actor) = acting(ctx)?;
        let id: DocumentId = id_of("diagnosis", &diagnosis)?;
        engine(cx.engine.send_partner_links(actor, id).await).map(PartnerLinks::from)
    }

    /// Answers a consultation with a partner organisation's personal link: no login, the
    /// link's token is the credential, and it answers once.
    async fn answer_consultation(
        &self,
        ctx: &Context<'_>,
        token: String,
        answers: Vec<AnswerInput>,
    ) -> ApiResult<bool> {
        let cx = request(ctx)?;
        engine(
            cx.engine
                .answer_as_partner(&token, &raw_answers(answers))
                .await,
        )
        .map(|()| true)
    }

    /// Answers a consultation anonymously through its public slug, as a citizen; answers
    /// from one client address are rate-limited.
    async fn answer_public_consultation(
        &self,
        ctx: &Context<'_>,
        slug: String,
        answers: Vec<AnswerInput>,
    ) -> ApiResult<bool> {
        let cx = request(ctx)?;
        let client = client(ctx)?;
        engine(
            cx.engine
                .answer_as_citizen(&slug, &raw_answers(answers), client)
                .await,
        )
        .map(|()| true)
    }
}
