//! Every word the portal shows, in one place: Italian first (the default and the
//! fallback), then the English translations. Templates read them as `t.key`; the code
//! reads them with [`Texts::get`]. Long texts are paragraphs separated by blank lines.
//! A key missing from Italian makes the page fail to render (the templates run with
//! strict undefined values), so that a gap is found by the tests, never shown.

use std::collections::BTreeMap;

use patto_core::Language;

/// The texts of one language, with Italian standing in where no translation exists.
#[derive(Clone, Debug)]
pub struct Texts {
    map: BTreeMap<&'static str, &'static str>,
}

impl Texts {
    /// The texts in `language`.
    pub fn new(language: Language) -> Texts {
        let mut map: BTreeMap<&'static str, &'static str> = ITALIAN.iter().copied().collect();
        if language == Language::En {
            map.extend(ENGLISH.iter().copied());
        }
        Texts { map }
    }

    /// The text under `key`, or the key itself when there is none (a code name such as a
    /// workflow state that no text describes yet is shown as it is).
    pub fn get(&self, key: &str) -> String {
        self.map.get(key).copied().unwrap_or(key).to_owned()
    }

    /// The text under `key` with each `{name}` replaced by its value.
    pub fn fill(&self, key: &str, values: &[(&str, &str)]) -> String {
        let mut text = self.get(key);
        for (name, value) in values {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// All of them, for the templates.
    pub fn all(&self) -> &BTreeMap<&'static str, &'static str> {
        &self.map
    }
}

/// Italian: every key.
const ITALIAN: &[(&str, &str)] = &[
    ("site_name", "Patto per la sicurezza e la legalità"),
    (
        "site_tagline",
        "Città a Rete Madonie-Termini — 28 Comuni e i loro partner",
    ),
    ("owner_line", "Città a Rete Madonie-Termini"),
    ("skip_to_content", "Vai al contenuto principale"),
    ("skip_to_footer", "Vai al piè di pagina"),
    ("main_menu", "Menu principale"),
    ("breadcrumb", "Percorso di navigazione"),
    ("footer_menu", "Informazioni sul sito"),
    ("language_switch", "Lingua"),
    ("other_language", "English"),
    ("other_language_code", "en"),
    ("nav_home", "Home"),
    ("nav_comuni", "I Comuni"),
    ("nav_pact", "Patto e protocolli"),
    ("nav_data", "Dati aperti"),
    ("nav_accessibility", "Dichiarazione di accessibilità"),
    ("nav_privacy", "Informativa privacy"),
    ("nav_legal", "Note legali"),
    ("nav_feed", "Feed delle pubblicazioni (Atom)"),
    ("nav_sitemap", "Mappa del sito (XML)"),
    (
        "footer_text",
        "Portale pubblico del Patto locale per la sicurezza e la legalità della Città a Rete Madonie-Termini. Il portale funziona senza JavaScript e non usa cookie.",
    ),
    (
        "home_intro",
        "Il Patto locale per la sicurezza e la legalità unisce i 28 Comuni della Città a Rete Madonie-Termini con la Regione Siciliana, la Prefettura, la magistratura, le forze dell'ordine, le associazioni, le imprese e gli enti religiosi del territorio.",
    ),
    ("home_programme_title", "Il programma"),
    (
        "home_programme",
        "Il programma parte da una Diagnosi di sicurezza e legalità: i problemi più sentiti, i punti di forza e di debolezza, le politiche svolte finora e ciò che chi vive nel territorio si aspetta.\n\nSulla Diagnosi le parti firmano il Patto e poi protocolli operativi tematici, ciascuno con impegni assegnati a un responsabile, una scadenza e un indicatore. Ogni impegno è verificato periodicamente e il suo stato è pubblicato qui.\n\nOgni anno la coalizione e ciascun Comune rendono conto dei risultati con un Bilancio Sociale costruito su un modello comune di indicatori.",
    ),
    ("home_coalition_title", "La coalizione"),
    (
        "home_coalition",
        "Capofila della coalizione è la Città a Rete Madonie-Termini. Ne fanno parte 28 Comuni della provincia di Palermo, con una popolazione residente complessiva di {population} abitanti (ISTAT, 2021).",
    ),
    ("home_comuni_link", "Vedi i 28 Comuni"),
    ("home_partners_title", "I partner del Patto"),
    ("home_latest_title", "Ultime pubblicazioni"),
    (
        "home_no_publications",
        "Non ci sono ancora documenti pubblicati.",
    ),
    ("comuni_title", "I 28 Comuni"),
    (
        "comuni_intro",
        "I Comuni della Città a Rete Madonie-Termini, con il codice ISTAT e la popolazione residente.",
    ),
    (
        "comuni_caption",
        "Comuni della coalizione, in ordine alfabetico",
    ),
    ("col_comune", "Comune"),
    ("col_istat", "Codice ISTAT"),
    ("col_population", "Popolazione residente (2021)"),
    ("col_documents", "Documenti firmati"),
    (
        "population_source",
        "Fonte della popolazione: ISTAT, popolazione residente al 2021, dal repository pubblico opendatasicilia/comuni-italiani.",
    ),
    ("comune_facts", "Dati del Comune"),
    ("comune_province", "Provincia"),
    ("comune_signed_title", "Documenti firmati"),
    (
        "comune_signed_none",
        "Il Comune non ha ancora firmato documenti pubblicati.",
    ),
    ("comune_reports_title", "Bilanci sociali pubblicati"),
    (
        "comune_reports_none",
        "Non ci sono ancora bilanci sociali pubblicati per questo Comune.",
    ),
    // The Diagnosi di sicurezza e legalità (`diagnosis.rs`, `diagnosis.html`).
    ("home_diagnoses_title", "Diagnosi di sicurezza e legalità"),
    (
        "home_diagnoses_none",
        "Nessuna diagnosi è ancora stata approvata.",
    ),
    ("comune_diagnoses_title", "Diagnosi di sicurezza e legalità"),
    (
        "comune_diagnoses_none",
        "Nessuna diagnosi approvata riguarda ancora questo Comune.",
    ),
    ("citations_title", "Problemi e bisogni a cui risponde"),
    (
        "citations_intro",
        "Gli elementi della Diagnosi di sicurezza e legalità approvata a cui questo documento risponde.",
    ),
    ("diagnosis_territory", "Territorio"),
    ("diagnosis_year", "Edizione"),
    ("diagnosis_document_link", "firme e prova di integrità"),
    ("diagnosis_summary_title", "Come è stata condotta"),
    ("diagnosis_problems_title", "Problemi più sentiti"),
    (
        "diagnosis_problems_caption",
        "Problemi più sentiti, con la loro frequenza e la gravità percepita",
    ),
    ("col_problem", "Problema"),
    ("col_frequency", "Frequenza"),
    ("col_seriousness", "Gravità percepita"),
    ("col_source", "Fonte"),
    ("diagnosis_scales_title", "Le scale usate"),
    (
        "diagnosis_seriousness_scale",
        "Gravità percepita, da 1 a 5:",
    ),
    ("diagnosis_none", "Nessun elemento."),
    ("diagnosis_local_policies_title", "Politiche locali finora"),
    (
        "diagnosis_supra_local_policies_title",
        "Politiche sovralocali finora",
    ),
    ("diagnosis_outcome", "Esito"),
    ("diagnosis_strengths_title", "Punti di forza"),
    ("diagnosis_weaknesses_title", "Punti di debolezza"),
    (
        "diagnosis_needs_title",
        "Aspettative e bisogni della popolazione",
    ),
    (
        "diagnosis_consultation_title",
        "Risultati della consultazione",
    ),
    (
        "diagnosis_consultation_none",
        "I risultati della consultazione non sono ancora pubblicati.",
    ),
    ("diagnosis_count", "{level}: {count} casi ({period})"),
    ("seriousness_value", "{value}/5 — {label}"),
    ("seriousness_1", "lieve"),
    ("seriousness_2", "moderata"),
    ("seriousness_3", "rilevante"),
    ("seriousness_4", "grave"),
    ("seriousness_5", "gravissima"),
    ("frequency_rare", "Rara"),
    ("frequency_occasional", "Occasionale"),
    ("frequency_frequent", "Frequente"),
    ("frequency_very_frequent", "Molto frequente"),
    ("frequency_rare_meaning", "pochi episodi l'anno al massimo"),
    ("frequency_occasional_meaning", "alcuni episodi l'anno"),
    ("frequency_frequent_meaning", "episodi ogni mese"),
    (
        "frequency_very_frequent_meaning",
        "episodi ogni settimana o più spesso",
    ),
    (
        "cited_problem_detail",
        "frequenza: {frequency}; gravità percepita: {seriousness}/5",
    ),
    ("item_problem", "Problema"),
    ("item_local_policy", "Politica locale"),
    ("item_supra_local_policy", "Politica sovralocale"),
    ("item_strength", "Punto di forza"),
    ("item_weakness", "Punto di debolezza"),
    ("item_need", "Bisogno"),
    // The published Bilanci Sociali (`reports.rs`).
    ("nav_reports", "Bilanci sociali"),
    ("reports_title", "Bilanci sociali"),
    (
        "reports_intro",
        "I bilanci sociali pubblicati dalla coalizione e dai Comuni. Per ogni ambito di rendicontazione: il rendiconto dell'anno, gli indicatori con il loro andamento e il confronto con la mediana dei Comuni, gli obiettivi per l'anno successivo.",
    ),
    (
        "reports_none",
        "Nessun bilancio sociale è stato ancora pubblicato.",
    ),
    ("home_reports_title", "Bilanci sociali"),
    ("report_pdf_short", "PDF"),
    ("report_pdf_of", "PDF di {title}"),
    ("report_subject", "Ente"),
    ("report_year", "Anno di riferimento"),
    ("report_version", "Versione pubblicata"),
    ("report_hash", "Impronta SHA-256 della versione"),
    ("report_model", "Modello di rendicontazione"),
    ("report_model_value", "versione {version}"),
    (
        "report_pdf_download",
        "Scarica il bilancio sociale completo (PDF)",
    ),
    (
        "report_pdf_note",
        "Il PDF è generato dalla versione pubblicata: contiene gli stessi testi e gli stessi valori di questa pagina.",
    ),
    ("report_toc", "Indice"),
    ("report_narrative", "Rendiconto"),
    ("report_indicators", "Indicatori"),
    ("report_goals", "Obiettivi per l'anno successivo"),
    ("report_not_drafted", "Questa parte non è stata redatta."),
    (
        "report_no_indicators",
        "Nessun indicatore per questo ambito.",
    ),
    ("indicator_definition", "Definizione"),
    ("indicator_unit", "Unità di misura"),
    ("indicator_polarity", "Lettura"),
    ("indicator_trend", "Andamento"),
    ("indicator_source", "Fonte"),
    (
        "indicator_caption",
        "{name}: valori di {subject} per anno e mediana dei Comuni",
    ),
    ("col_year", "Anno"),
    ("col_value_of", "Valore di {subject}"),
    ("col_median", "Mediana dei Comuni"),
    ("col_comparison", "Rispetto alla mediana"),
    ("median_comuni", "Comuni con un valore"),
    ("no_value", "nessun dato"),
    ("compare_better", "migliore della mediana"),
    ("compare_worse", "peggiore della mediana"),
    ("compare_equal", "pari alla mediana"),
    ("chart_trend_caption", "Andamento di {name}, {years}"),
    (
        "chart_trend_alt",
        "Grafico a linee: andamento di {name} per {subject}, {years}. I valori sono nella tabella qui sopra.",
    ),
    (
        "chart_comparison_caption",
        "{name}: {subject} e mediana dei Comuni, {years}",
    ),
    (
        "chart_comparison_alt",
        "Grafico a linee: {name}, {subject} a confronto con la mediana dei Comuni, {years}. I valori sono nella tabella qui sopra.",
    ),
    (
        "report_evidence_intro",
        "Il fascicolo delle prove contiene la versione pubblicata di questo bilancio sociale, con ogni testo e ogni valore, e la catena degli eventi della sua approvazione e pubblicazione, sigillati con la chiave del server.",
    ),
    (
        "report_evidence_meaning",
        "Che cosa prova la verifica: nessun byte della versione pubblicata né della sua storia è cambiato dopo la pubblicazione; l'impronta SHA-256 qui sopra è quella della versione.\n\nConfrontate l'impronta della chiave con quella pubblicata dalla coalizione per altre vie (per esempio nell'albo pretorio): se coincidono, il fascicolo viene da questo server.",
    ),
    ("unit_percent", "percentuale (%)"),
    ("unit_count", "numero"),
    ("unit_euro", "euro"),
    ("unit_euro_per_inhabitant", "euro per abitante"),
    ("unit_kg_per_inhabitant", "kg per abitante"),
    ("unit_per_thousand_inhabitants", "per 1.000 abitanti"),
    ("unit_kilowatt", "kW"),
    ("unit_days", "giorni"),
    ("polarity_higher_is_better", "valori più alti sono migliori"),
    ("polarity_lower_is_better", "valori più bassi sono migliori"),
    ("trend_improving", "in miglioramento"),
    ("trend_worsening", "in peggioramento"),
    ("trend_stable", "stabile"),
    ("trend_not_enough_data", "dati insufficienti"),
    ("comune_commitments_title", "Impegni di cui è responsabile"),
    (
        "comune_commitments_none",
        "Il Comune non è responsabile di impegni nei documenti in vigore.",
    ),
    ("pact_index_title", "Il Patto e i protocolli"),
    (
        "pact_index_intro",
        "I documenti firmati dalle parti e pubblicati, con lo stato di attuazione dei loro impegni.",
    ),
    ("pact_index_none", "Non ci sono ancora documenti in vigore."),
    ("protocols_title", "Protocolli operativi"),
    ("published_on", "Pubblicato il"),
    ("status", "Stato"),
    ("kind", "Tipo"),
    ("version", "Versione"),
    ("text_title", "Testo"),
    (
        "text_not_shown",
        "Il contenuto di questo documento non è un testo semplice: scaricane le prove qui sotto per leggerlo per intero.",
    ),
    ("signatories_title", "Firmatari"),
    (
        "signatories_caption",
        "Organizzazioni firmatarie, chi ha firmato e quando",
    ),
    ("col_organisation", "Organizzazione"),
    ("col_signer", "Firmatario"),
    ("col_signed_on", "Data della firma"),
    ("not_signed", "non ancora firmato"),
    ("commitments_title", "Impegni e stato di attuazione"),
    ("commitments_none", "Nessun impegno registrato."),
    (
        "commitments_progress",
        "Impegni conclusi: {done} su {total} ({percent}%)",
    ),
    (
        "commitments_progress_label",
        "Avanzamento degli impegni di {title}",
    ),
    ("commitments_caption", "Impegni di {title}"),
    ("col_commitment", "Impegno"),
    ("col_owner", "Responsabile"),
    ("col_due", "Scadenza"),
    ("col_indicator", "Indicatore e obiettivo"),
    ("col_status", "Stato"),
    ("col_reported", "Ultimo stato riferito"),
    (
        "reported_with_value",
        "{status}, valore dell'indicatore {value} (riferito il {date})",
    ),
    ("reported_without_value", "{status} (riferito il {date})"),
    ("reported_not_started", "non avviato"),
    ("reported_in_progress", "in corso"),
    ("reported_done", "concluso"),
    ("reported_late", "in ritardo"),
    ("reported_dropped", "abbandonato"),
    ("reported_none", "nessuna relazione ancora"),
    ("no_due", "senza scadenza"),
    ("no_owner", "non assegnato"),
    (
        "progress_note",
        "L'avanzamento è la quota di impegni conclusi sul totale, esclusi quelli annullati.",
    ),
    ("reviews_title", "Verifiche"),
    ("reviews_none", "Nessuna verifica si è ancora svolta."),
    ("review_of", "Verifica del {date}"),
    ("review_open", "in corso"),
    ("review_closed", "conclusa il {date}"),
    ("review_outcome", "Esito"),
    ("review_minutes", "Verbale"),
    // A closed review's outcome is the transition its coordinator fired, by name.
    (
        "outcome_conclude_review",
        "verifica conclusa, il documento resta in vigore",
    ),
    ("outcome_amend", "avviata una modifica del testo"),
    ("outcome_close", "documento chiuso"),
    ("evidence_title", "Prove e verifica"),
    (
        "evidence_intro",
        "Il fascicolo delle prove contiene il testo pubblicato, la catena degli eventi che lo ha portato in vigore e le firme delle parti, sigillati con la chiave del server.",
    ),
    (
        "evidence_download",
        "Scarica il fascicolo delle prove (JSON, versione {version})",
    ),
    ("evidence_fingerprint", "Impronta della chiave del server"),
    (
        "evidence_no_key",
        "Questo server non ha una chiave configurata: il fascicolo delle prove non è disponibile.",
    ),
    (
        "evidence_how",
        "Per verificarlo sul proprio computer, senza collegarsi al server, con il programma patto:",
    ),
    (
        "evidence_meaning",
        "Che cosa prova la verifica: ogni firma è una firma elettronica Ed25519 fatta con la chiave registrata dal firmatario, e nessun byte del testo o della storia è cambiato dopo la firma. È una firma elettronica con forti prove di integrità, non una firma digitale qualificata ai sensi del Codice dell'amministrazione digitale.\n\nConfrontate l'impronta qui sopra con quella pubblicata dalla coalizione per altre vie (per esempio nell'albo pretorio): se coincidono, il fascicolo viene da questo server.",
    ),
    ("data_title", "Dati aperti"),
    (
        "data_intro",
        "I dati del programma, liberamente riutilizzabili con licenza Creative Commons Attribuzione 4.0 (CC BY 4.0): citate la fonte «Città a Rete Madonie-Termini».",
    ),
    ("data_caption", "Insiemi di dati disponibili e formati"),
    ("col_dataset", "Insieme di dati"),
    ("col_description", "Descrizione"),
    ("col_formats", "Formati"),
    ("dataset_indicators", "Indicatori della ricognizione"),
    (
        "dataset_indicators_description",
        "I valori degli indicatori del modello di rendicontazione per Comune e per anno, con la fonte di ciascun valore.",
    ),
    ("dataset_commitments", "Impegni del Patto e dei protocolli"),
    (
        "dataset_commitments_description",
        "Gli impegni dei documenti in vigore, con responsabile, scadenza, indicatore, obiettivo e stato.",
    ),
    ("data_catalogue_title", "Catalogo DCAT-AP_IT"),
    (
        "data_catalogue",
        "I metadati degli insiemi di dati sono pubblicati secondo il profilo DCAT-AP_IT in JSON-LD, per l'harvesting del catalogo nazionale dei dati.",
    ),
    ("data_catalogue_link", "Catalogo DCAT-AP_IT (JSON-LD)"),
    ("data_licence", "Licenza: CC BY 4.0"),
    (
        "feed_title",
        "Pubblicazioni del Patto per la sicurezza e la legalità",
    ),
    ("accessibility_title", "Dichiarazione di accessibilità"),
    (
        "accessibility_sections",
        "Impegno\n\nLa Città a Rete Madonie-Termini si impegna a rendere accessibile questo portale, conformemente al decreto legislativo 10 agosto 2004, n. 4, come modificato dal decreto legislativo 10 agosto 2018, n. 106, che ha recepito la direttiva (UE) 2016/2102, e alle Linee guida sull'accessibilità degli strumenti informatici dell'AgID. La presente dichiarazione si applica a questo portale pubblico.\n\n##Stato di conformità\n\nIl portale è parzialmente conforme ai requisiti della norma UNI CEI EN 301549 e alle WCAG 2.1 livello AA. Ogni tipo di pagina è verificato automaticamente, a ogni modifica del software, con lo strumento axe-core in un browser Chromium reale: la verifica non rileva violazioni. Una valutazione manuale completa non è ancora stata svolta, e gli strumenti automatici non rilevano tutti i problemi: per questo la conformità è dichiarata parziale.\n\n##Contenuti non accessibili\n\nI fascicoli delle prove (JSON) e i dati aperti (CSV, JSON) sono file tecnici destinati ai programmi: il loro contenuto essenziale è riportato in forma leggibile nelle pagine del portale.\n\n##Redazione della dichiarazione\n\nLa dichiarazione è stata redatta con un'autovalutazione svolta dagli sviluppatori del software, con le prove automatiche descritte sopra, e sarà riesaminata a ogni nuova versione del portale.\n\n##Modalità di invio delle segnalazioni\n\nChi incontra un contenuto non accessibile può segnalarlo al coordinamento della Città a Rete Madonie-Termini, che risponde entro 30 giorni.\n\n##Procedura di attuazione\n\nIn caso di risposta insoddisfacente o di mancata risposta entro 30 giorni, è possibile inviare una segnalazione al Difensore civico per il digitale presso l'AgID.",
    ),
    (
        "privacy_title",
        "Informativa sul trattamento dei dati personali",
    ),
    (
        "privacy_sections",
        "Titolare del trattamento\n\nTitolare del trattamento è la Città a Rete Madonie-Termini, capofila del Patto locale per la sicurezza e la legalità.\n\n##Navigazione del portale\n\nIl portale non usa cookie, non usa strumenti di analisi del traffico e non carica risorse da altri siti. Il server registra per ogni richiesta il metodo, il percorso, l'esito e un identificativo casuale, senza l'indirizzo IP, per garantire il funzionamento e la sicurezza del servizio.\n\n##Consultazione della Diagnosi\n\nLa consultazione della Diagnosi di sicurezza e legalità raccoglie le risposte a un questionario: scelte, valutazioni su una scala e testi liberi. Di ogni risposta sono conservati soltanto il gruppo di chi ha risposto (partner o cittadini) e le risposte stesse: nessun nome, indirizzo di posta, indirizzo IP, collegamento o orario.\n\nI partner rispondono una volta per organizzazione tramite un collegamento personale inviato per posta ai coordinatori dell'organizzazione. Il sistema conserva solo l'impronta (SHA-256) del collegamento e se è già stato usato, non quale risposta ne sia nata.\n\nI cittadini rispondono in forma anonima tramite il collegamento pubblico della consultazione: non sono chiesti nome, indirizzo di posta o altri dati identificativi, e si raccomanda di non scriverne nei testi liberi. Per impedire invii ripetuti in massa, l'indirizzo IP del dispositivo è tenuto solo nella memoria del server per un'ora e non è mai scritto nel database né nei registri.\n\nI risultati aggregati per domanda sono pubblicati dopo la chiusura della consultazione. I testi liberi non sono pubblicati: ne è pubblicato solo il numero, e li leggono i coordinatori della Diagnosi.\n\n##Finalità e base giuridica\n\nLe risposte servono a redigere la Diagnosi e il Patto: sono trattate per l'esecuzione di un compito di interesse pubblico (articolo 6, paragrafo 1, lettera e, del Regolamento (UE) 2016/679). Sono pubblicati solo risultati aggregati per domanda.\n\n##Conservazione\n\nLe singole risposte sono conservate fino all'approvazione della Diagnosi e poi per non più di cinque anni, per consentire la verifica dei risultati; trascorso questo periodo restano soltanto i risultati aggregati.\n\n##Diritti\n\nSi possono esercitare i diritti previsti dagli articoli da 15 a 22 del Regolamento (UE) 2016/679 scrivendo al titolare, e proporre reclamo al Garante per la protezione dei dati personali. Le risposte anonime non possono essere ricondotte a chi le ha date, e quindi non possono essere consultate o cancellate singolarmente.",
    ),
    ("legal_title", "Note legali"),
    (
        "legal_sections",
        "Contenuti\n\nI testi e i dati pubblicati in questo portale sono rilasciati con licenza Creative Commons Attribuzione 4.0 Internazionale (CC BY 4.0), salvo dove indicato diversamente: possono essere riutilizzati citando la fonte «Città a Rete Madonie-Termini».\n\n##Firme\n\nLe firme dei documenti sono firme elettroniche Ed25519 con forti prove di integrità, verificabili da chiunque con il fascicolo delle prove. Non sono firme digitali qualificate ai sensi del Codice dell'amministrazione digitale.\n\n##Dati dimostrativi\n\nNelle installazioni dimostrative le persone, i partner contrassegnati come «demo» e i valori generati degli indicatori sono fittizi; i nomi e i codici ISTAT dei Comuni e la loro popolazione sono dati reali.\n\n##Software\n\nIl portale è servito da Patto, software libero con licenza EUPL-1.2. L'aspetto grafico usa Bootstrap Italia (licenza BSD-3-Clause) con i caratteri Titillium Web e Lora (SIL Open Font License 1.1) e Roboto Mono (Apache 2.0), serviti da questo stesso server.",
    ),
    ("not_found_title", "Pagina non trovata"),
    (
        "not_found_text",
        "La pagina richiesta non esiste o non è pubblica. Controllate l'indirizzo, oppure ripartite dalla home page.",
    ),
    ("not_found_home", "Torna alla home page"),
    ("error_title", "Errore del server"),
    (
        "error_text",
        "Non è stato possibile mostrare la pagina per un errore interno. Riprovate tra qualche minuto; se l'errore si ripete, segnalatelo al coordinamento indicando l'ora.",
    ),
    ("kind_pact", "Patto"),
    ("kind_protocol", "Protocollo operativo"),
    ("kind_diagnosis", "Diagnosi"),
    ("kind_reporting_model", "Modello di rendicontazione"),
    ("kind_social_report", "Bilancio sociale"),
    ("state_in_force", "In vigore"),
    ("state_implementation", "In attuazione"),
    ("state_under_review", "In verifica"),
    ("state_closed", "Concluso"),
    ("state_published", "Pubblicato"),
    ("state_approved", "Approvato"),
    ("state_adopted", "Adottato"),
    ("commitment_open", "Da avviare"),
    ("commitment_in_progress", "In corso"),
    ("commitment_done", "Concluso"),
    ("commitment_cancelled", "Annullato"),
    ("category_coalition", "Coalizione"),
    ("category_municipality", "Comune"),
    ("category_decision_body", "Organo decisionale"),
    ("category_region", "Regione"),
    ("category_prefecture", "Prefettura"),
    ("category_magistracy", "Magistratura"),
    ("category_police", "Forze dell'ordine"),
    ("category_association", "Associazione"),
    ("category_business", "Impresa"),
    ("category_religious_body", "Ente religioso"),
    ("category_trade_association", "Associazione di categoria"),
    ("category_other", "Altro"),
    ("consultation_crumb", "Consultazione"),
    (
        "consultation_partner_intro",
        "State rispondendo con il collegamento personale di",
    ),
    (
        "consultation_period",
        "La consultazione è aperta dal {from} al {to}.",
    ),
    (
        "consultation_privacy_note",
        "Le risposte sono conservate senza nome, indirizzo di posta o indirizzo IP; i testi liberi non sono pubblicati. Non scrivete dati personali nei testi. Dettagli nell'",
    ),
    ("consultation_required", "obbligatoria"),
    (
        "consultation_hint_max",
        "Potete scegliere fino a {max} risposte.",
    ),
    ("consultation_hint_any", "Potete scegliere più risposte."),
    (
        "consultation_hint_scale",
        "Da {min} ({min_label}) a {max} ({max_label}).",
    ),
    ("consultation_hint_text", "Al massimo {max} caratteri."),
    ("consultation_submit", "Invia le risposte"),
    (
        "consultation_error_title",
        "Le risposte non sono state inviate",
    ),
    (
        "consultation_error_intro",
        "Correggete queste risposte e inviate di nuovo: ciò che avete scritto è stato conservato nel modulo.",
    ),
    (
        "consultation_error_form",
        "Il modulo è scaduto o non proviene da questo sito. Controllate le risposte qui sotto e inviatele di nuovo.",
    ),
    (
        "consultation_error_rate",
        "Sono arrivate troppe risposte dalla vostra rete in poco tempo. Riprovate tra un'ora: le risposte qui sotto sono state conservate.",
    ),
    (
        "consultation_error_unknown",
        "la domanda non fa parte del questionario.",
    ),
    (
        "consultation_error_missing",
        "questa domanda è obbligatoria: scegliete o scrivete una risposta.",
    ),
    (
        "consultation_error_option",
        "la risposta non è tra quelle proposte: sceglietene una dell'elenco.",
    ),
    (
        "consultation_error_too_many",
        "scegliete al massimo {max} risposte.",
    ),
    (
        "consultation_error_scale",
        "scegliete un valore da {min} a {max}.",
    ),
    (
        "consultation_error_too_long",
        "il testo supera i {max} caratteri: accorciatelo.",
    ),
    (
        "consultation_error_control",
        "il testo contiene un carattere non ammesso ({char}): toglietelo.",
    ),
    (
        "consultation_error_empty",
        "non avete risposto a nessuna domanda: rispondete almeno a una.",
    ),
    ("consultation_thanks_title", "Grazie per le risposte"),
    (
        "consultation_thanks_text",
        "Le vostre risposte sono state registrate. I risultati aggregati saranno pubblicati su questo portale alla chiusura della consultazione.",
    ),
    (
        "consultation_not_open",
        "La consultazione non è ancora aperta: tornate quando inizia.",
    ),
    (
        "consultation_closed",
        "La consultazione è chiusa e non accetta più risposte.",
    ),
    (
        "consultation_link_used",
        "Con questo collegamento personale è già stata inviata una risposta: ogni organizzazione partner risponde una sola volta.",
    ),
    (
        "consultation_results_link",
        "Vedi i risultati della consultazione",
    ),
    (
        "consultation_results_title",
        "Risultati della consultazione: {title}",
    ),
    (
        "consultation_results_crumb",
        "Risultati della consultazione",
    ),
    (
        "consultation_results_note",
        "Per ogni domanda, il numero di risposte dei partner e dei cittadini, conteggiate separatamente.",
    ),
    (
        "consultation_respondents_partners",
        "Organizzazioni partner che hanno risposto",
    ),
    (
        "consultation_respondents_citizens",
        "Cittadini che hanno risposto",
    ),
    ("consultation_caption", "Risposte alla domanda"),
    ("consultation_col_answer", "Risposta"),
    ("consultation_col_partners", "Partner"),
    ("consultation_col_citizens", "Cittadini"),
    ("consultation_mean", "Media"),
    ("consultation_median", "Mediana"),
    ("consultation_text_answers", "Risposte libere"),
    (
        "consultation_texts_not_public",
        "I testi non sono pubblicati per tutela della riservatezza.",
    ),
    ("home_consultations_title", "Consultazioni concluse"),
];

/// English: the translations that exist; anything missing is shown in Italian.
const ENGLISH: &[(&str, &str)] = &[
    ("site_name", "Pact for security and legality"),
    (
        "site_tagline",
        "Città a Rete Madonie-Termini — 28 municipalities and their partners",
    ),
    ("skip_to_content", "Skip to main content"),
    ("skip_to_footer", "Skip to footer"),
    ("main_menu", "Main menu"),
    ("breadcrumb", "Breadcrumb"),
    ("footer_menu", "About this site"),
    ("language_switch", "Language"),
    ("other_language", "Italiano"),
    ("other_language_code", "it"),
    ("nav_home", "Home"),
    ("nav_comuni", "Municipalities"),
    ("nav_pact", "Pact and protocols"),
    ("nav_data", "Open data"),
    ("nav_accessibility", "Accessibility statement"),
    ("nav_privacy", "Privacy notice"),
    ("nav_legal", "Legal notes"),
    ("nav_feed", "Publications feed (Atom)"),
    ("nav_sitemap", "Sitemap (XML)"),
    (
        "footer_text",
        "Public portal of the Local Pact for Security and Legality of the Città a Rete Madonie-Termini. The portal works without JavaScript and uses no cookies.",
    ),
    (
        "home_intro",
        "The Local Pact for Security and Legality brings together the 28 municipalities of the Città a Rete Madonie-Termini with the Sicilian Region, the Prefecture, the judiciary, the police, associations, businesses and religious bodies of the area.",
    ),
    ("home_programme_title", "The programme"),
    (
        "home_programme",
        "The programme starts from a Diagnosis of security and legality: the problems felt most, strengths and weaknesses, the policies so far and what local people expect.\n\nOn the Diagnosis the parties sign the Pact and then thematic operational protocols, each with commitments assigned to an owner, a due date and an indicator. Every commitment is reviewed periodically and its status is published here.\n\nEvery year the coalition and each municipality report on the results with a social report (Bilancio Sociale) built on a common model of indicators.",
    ),
    ("home_coalition_title", "The coalition"),
    (
        "home_coalition",
        "The coalition is led by the Città a Rete Madonie-Termini. It brings together 28 municipalities of the Province of Palermo, with {population} residents in all (ISTAT, 2021).",
    ),
    ("home_comuni_link", "See the 28 municipalities"),
    ("home_partners_title", "The partners of the Pact"),
    ("home_latest_title", "Latest publications"),
    ("home_no_publications", "Nothing has been published yet."),
    ("comuni_title", "The 28 municipalities"),
    (
        "comuni_intro",
        "The municipalities of the Città a Rete Madonie-Termini, with their ISTAT code and resident population.",
    ),
    (
        "comuni_caption",
        "Municipalities of the coalition, in alphabetical order",
    ),
    ("col_comune", "Municipality"),
    ("col_istat", "ISTAT code"),
    ("col_population", "Resident population (2021)"),
    ("col_documents", "Documents signed"),
    (
        "population_source",
        "Population source: ISTAT, resident population in 2021, from the public repository opendatasicilia/comuni-italiani.",
    ),
    ("comune_facts", "About the municipality"),
    ("comune_province", "Province"),
    ("comune_signed_title", "Documents signed"),
    (
        "comune_signed_none",
        "The municipality has not signed any published document yet.",
    ),
    ("comune_reports_title", "Published social reports"),
    (
        "comune_reports_none",
        "No social report has been published for this municipality yet.",
    ),
    // The Diagnosi di sicurezza e legalità.
    ("home_diagnoses_title", "Security and legality diagnoses"),
    ("home_diagnoses_none", "No diagnosis has been approved yet."),
    ("comune_diagnoses_title", "Security and legality diagnoses"),
    (
        "comune_diagnoses_none",
        "No approved diagnosis covers this municipality yet.",
    ),
    ("citations_title", "Problems and needs it responds to"),
    (
        "citations_intro",
        "The items of the approved security and legality diagnosis this document responds to.",
    ),
    ("diagnosis_territory", "Territory"),
    ("diagnosis_year", "Edition"),
    (
        "diagnosis_document_link",
        "signatures and integrity evidence",
    ),
    ("diagnosis_summary_title", "How it was made"),
    ("diagnosis_problems_title", "The problems felt most"),
    (
        "diagnosis_problems_caption",
        "The problems felt most, with their frequency and perceived seriousness",
    ),
    ("col_problem", "Problem"),
    ("col_frequency", "Frequency"),
    ("col_seriousness", "Perceived seriousness"),
    ("col_source", "Source"),
    ("diagnosis_scales_title", "The scales used"),
    (
        "diagnosis_seriousness_scale",
        "Perceived seriousness, 1 to 5:",
    ),
    ("diagnosis_none", "None."),
    ("diagnosis_local_policies_title", "Local policies so far"),
    (
        "diagnosis_supra_local_policies_title",
        "Supra-local policies so far",
    ),
    ("diagnosis_outcome", "Outcome"),
    ("diagnosis_strengths_title", "Strengths"),
    ("diagnosis_weaknesses_title", "Weaknesses"),
    ("diagnosis_needs_title", "What local people expect and need"),
    ("diagnosis_consultation_title", "Consultation results"),
    (
        "diagnosis_consultation_none",
        "The consultation's results are not published yet.",
    ),
    ("diagnosis_count", "{level}: {count} cases ({period})"),
    ("seriousness_1", "minor"),
    ("seriousness_2", "moderate"),
    ("seriousness_3", "significant"),
    ("seriousness_4", "serious"),
    ("seriousness_5", "very serious"),
    ("frequency_rare", "Rare"),
    ("frequency_occasional", "Occasional"),
    ("frequency_frequent", "Frequent"),
    ("frequency_very_frequent", "Very frequent"),
    ("frequency_rare_meaning", "a few episodes a year at most"),
    ("frequency_occasional_meaning", "several episodes a year"),
    ("frequency_frequent_meaning", "episodes every month"),
    (
        "frequency_very_frequent_meaning",
        "episodes every week or more often",
    ),
    (
        "cited_problem_detail",
        "frequency: {frequency}; perceived seriousness: {seriousness}/5",
    ),
    ("item_problem", "Problem"),
    ("item_local_policy", "Local policy"),
    ("item_supra_local_policy", "Supra-local policy"),
    ("item_strength", "Strength"),
    ("item_weakness", "Weakness"),
    ("item_need", "Need"),
    // The published social reports (`reports.rs`).
    ("nav_reports", "Social reports"),
    ("reports_title", "Social reports"),
    (
        "reports_intro",
        "The social reports published by the coalition and by the municipalities. For each reporting area: the account of the year, the indicators with their trend and the comparison with the municipalities' median, and the goals for the next year.",
    ),
    ("reports_none", "No social report has been published yet."),
    ("home_reports_title", "Social reports"),
    ("report_pdf_of", "PDF of {title}"),
    ("report_subject", "Organisation"),
    ("report_year", "Year reported on"),
    ("report_version", "Published version"),
    ("report_hash", "SHA-256 fingerprint of the version"),
    ("report_model", "Reporting model"),
    ("report_model_value", "version {version}"),
    (
        "report_pdf_download",
        "Download the whole social report (PDF, in Italian)",
    ),
    (
        "report_pdf_note",
        "The PDF is made from the published version: it holds the same texts and the same figures as this page.",
    ),
    ("report_toc", "Contents"),
    ("report_narrative", "Account of the year"),
    ("report_indicators", "Indicators"),
    ("report_goals", "Goals for the next year"),
    ("report_not_drafted", "This part was not written."),
    ("report_no_indicators", "No indicator for this area."),
    ("indicator_definition", "Definition"),
    ("indicator_unit", "Unit"),
    ("indicator_polarity", "Reading"),
    ("indicator_trend", "Trend"),
    ("indicator_source", "Source"),
    (
        "indicator_caption",
        "{name}: figures of {subject} by year and the municipalities' median",
    ),
    ("col_year", "Year"),
    ("col_value_of", "Value for {subject}"),
    ("col_median", "Municipalities' median"),
    ("col_comparison", "Against the median"),
    ("median_comuni", "municipalities with a value"),
    ("no_value", "no data"),
    ("compare_better", "better than the median"),
    ("compare_worse", "worse than the median"),
    ("compare_equal", "equal to the median"),
    ("chart_trend_caption", "Trend of {name}, {years}"),
    (
        "chart_trend_alt",
        "Line chart: trend of {name} for {subject}, {years}. The figures are in the table above.",
    ),
    (
        "chart_comparison_caption",
        "{name}: {subject} and the municipalities' median, {years}",
    ),
    (
        "chart_comparison_alt",
        "Line chart: {name}, {subject} against the municipalities' median, {years}. The figures are in the table above.",
    ),
    (
        "report_evidence_intro",
        "The evidence bundle holds the published version of this social report, with every text and figure, and the chain of events of its approval and publication, sealed with the server's key.",
    ),
    (
        "report_evidence_meaning",
        "What verifying proves: no byte of the published version or of its history has changed since publication; the SHA-256 fingerprint above is the version's.\n\nCompare the key's fingerprint with the one the coalition publishes elsewhere (for example on its official notice board): if they match, the bundle comes from this server.",
    ),
    ("unit_percent", "percentage (%)"),
    ("unit_count", "number"),
    ("unit_euro", "euro"),
    ("unit_euro_per_inhabitant", "euro per inhabitant"),
    ("unit_kg_per_inhabitant", "kg per inhabitant"),
    ("unit_per_thousand_inhabitants", "per 1,000 inhabitants"),
    ("unit_kilowatt", "kW"),
    ("unit_days", "days"),
    ("polarity_higher_is_better", "higher values are better"),
    ("polarity_lower_is_better", "lower values are better"),
    ("trend_improving", "improving"),
    ("trend_worsening", "worsening"),
    ("trend_stable", "stable"),
    ("trend_not_enough_data", "not enough data"),
    (
        "comune_commitments_title",
        "Commitments it is responsible for",
    ),
    (
        "comune_commitments_none",
        "The municipality is not responsible for any commitment of the documents in force.",
    ),
    ("pact_index_title", "The Pact and the protocols"),
    (
        "pact_index_intro",
        "The documents signed by the parties and published, with how far their commitments have come.",
    ),
    ("pact_index_none", "No document is in force yet."),
    ("protocols_title", "Operational protocols"),
    ("published_on", "Published on"),
    ("status", "Status"),
    ("kind", "Type"),
    ("version", "Version"),
    ("text_title", "Text"),
    (
        "text_not_shown",
        "This document's content is not plain text: download its evidence below to read it in full.",
    ),
    ("signatories_title", "Signatories"),
    (
        "signatories_caption",
        "Signing organisations, who signed and when",
    ),
    ("col_organisation", "Organisation"),
    ("col_signer", "Signer"),
    ("col_signed_on", "Signed on"),
    ("not_signed", "not signed yet"),
    ("commitments_title", "Commitments and their progress"),
    ("commitments_none", "No commitment recorded."),
    (
        "commitments_progress",
        "Commitments done: {done} of {total} ({percent}%)",
    ),
    (
        "commitments_progress_label",
        "Progress of the commitments of {title}",
    ),
    ("commitments_caption", "Commitments of {title}"),
    ("col_commitment", "Commitment"),
    ("col_owner", "Owner"),
    ("col_due", "Due"),
    ("col_indicator", "Indicator and target"),
    ("col_status", "Status"),
    ("col_reported", "Last reported"),
    (
        "reported_with_value",
        "{status}, indicator at {value} (reported on {date})",
    ),
    ("reported_without_value", "{status} (reported on {date})"),
    ("reported_not_started", "not started"),
    ("reported_in_progress", "in progress"),
    ("reported_done", "done"),
    ("reported_late", "late"),
    ("reported_dropped", "dropped"),
    ("reported_none", "no report yet"),
    ("no_due", "no due date"),
    ("no_owner", "not assigned"),
    (
        "progress_note",
        "Progress is the share of commitments done out of all those not cancelled.",
    ),
    ("reviews_title", "Reviews"),
    ("reviews_none", "No review has taken place yet."),
    ("review_of", "Review of {date}"),
    ("review_open", "in progress"),
    ("review_closed", "closed on {date}"),
    ("review_outcome", "Outcome"),
    ("review_minutes", "Minutes"),
    (
        "outcome_conclude_review",
        "review concluded, the document stays in force",
    ),
    ("outcome_amend", "an amendment was started"),
    ("outcome_close", "document closed"),
    ("evidence_title", "Evidence and how to verify it"),
    (
        "evidence_intro",
        "The evidence bundle holds the published text, the chain of events that brought it into force and the parties' signatures, sealed with the server's key.",
    ),
    (
        "evidence_download",
        "Download the evidence bundle (JSON, version {version})",
    ),
    ("evidence_fingerprint", "Fingerprint of the server key"),
    (
        "evidence_no_key",
        "This server has no key configured: the evidence bundle is not available.",
    ),
    (
        "evidence_how",
        "To verify it on your own computer, without connecting to the server, with the patto program:",
    ),
    (
        "evidence_meaning",
        "What the check proves: each signature is an Ed25519 electronic signature made with the key the signer registered, and no byte of the text or of its history changed after signing. It is an electronic signature with strong integrity evidence, not a qualified digital signature (firma digitale) under the Italian Digital Administration Code.\n\nCompare the fingerprint above with the one the coalition publishes by other means (for instance on its official notice board): if they match, the bundle comes from this server.",
    ),
    ("data_title", "Open data"),
    (
        "data_intro",
        "The programme's data, free to reuse under the Creative Commons Attribution 4.0 licence (CC BY 4.0): credit «Città a Rete Madonie-Termini».",
    ),
    ("data_caption", "Available datasets and formats"),
    ("col_dataset", "Dataset"),
    ("col_description", "Description"),
    ("col_formats", "Formats"),
    ("dataset_indicators", "Survey indicators"),
    (
        "dataset_indicators_description",
        "The values of the reporting model's indicators by municipality and year, with the source of each value.",
    ),
    (
        "dataset_commitments",
        "Commitments of the Pact and protocols",
    ),
    (
        "dataset_commitments_description",
        "The commitments of the documents in force, with owner, due date, indicator, target and status.",
    ),
    ("data_catalogue_title", "DCAT-AP_IT catalogue"),
    (
        "data_catalogue",
        "The datasets' metadata are published in the DCAT-AP_IT profile as JSON-LD, for harvesting by the national data catalogue.",
    ),
    ("data_catalogue_link", "DCAT-AP_IT catalogue (JSON-LD)"),
    ("data_licence", "Licence: CC BY 4.0"),
    ("not_found_title", "Page not found"),
    (
        "not_found_text",
        "The page you asked for does not exist or is not public. Check the address, or start again from the home page.",
    ),
    ("not_found_home", "Back to the home page"),
    ("error_title", "Server error"),
    (
        "error_text",
        "The page could not be shown because of an internal error. Try again in a few minutes; if it happens again, tell the coordination office the time it happened.",
    ),
    ("kind_pact", "Pact"),
    ("kind_protocol", "Operational protocol"),
    ("kind_diagnosis", "Diagnosis"),
    ("kind_reporting_model", "Reporting model"),
    ("kind_social_report", "Social report"),
    ("state_in_force", "In force"),
    ("state_implementation", "Being implemented"),
    ("state_under_review", "Under review"),
    ("state_closed", "Closed"),
    ("state_published", "Published"),
    ("state_approved", "Approved"),
    ("state_adopted", "Adopted"),
    ("commitment_open", "Not started"),
    ("commitment_in_progress", "In progress"),
    ("commitment_done", "Done"),
    ("commitment_cancelled", "Cancelled"),
    ("category_coalition", "Coalition"),
    ("category_municipality", "Municipality"),
    ("category_decision_body", "Decision body"),
    ("category_region", "Region"),
    ("category_prefecture", "Prefecture"),
    ("category_magistracy", "Judiciary"),
    ("category_police", "Police"),
    ("category_association", "Association"),
    ("category_business", "Business"),
    ("category_religious_body", "Religious body"),
    ("category_trade_association", "Trade association"),
    ("category_other", "Other"),
    ("consultation_crumb", "Consultation"),
    (
        "consultation_partner_intro",
        "You are answering with the personal link of",
    ),
    (
        "consultation_period",
        "The consultation is open from {from} to {to}.",
    ),
    (
        "consultation_privacy_note",
        "Answers are kept without name, e-mail or IP address; free texts are not published. Do not write personal data in the texts. Details in the",
    ),
    ("consultation_required", "required"),
    (
        "consultation_hint_max",
        "You may choose up to {max} answers.",
    ),
    ("consultation_hint_any", "You may choose several answers."),
    (
        "consultation_hint_scale",
        "From {min} ({min_label}) to {max} ({max_label}).",
    ),
    ("consultation_hint_text", "At most {max} characters."),
    ("consultation_submit", "Send the answers"),
    ("consultation_error_title", "The answers were not sent"),
    (
        "consultation_error_intro",
        "Correct these answers and send again: what you wrote has been kept in the form.",
    ),
    (
        "consultation_error_form",
        "The form has expired or did not come from this site. Check the answers below and send them again.",
    ),
    (
        "consultation_error_rate",
        "Too many answers came from your network in a short time. Try again in an hour: the answers below have been kept.",
    ),
    (
        "consultation_error_unknown",
        "the question is not part of the questionnaire.",
    ),
    (
        "consultation_error_missing",
        "this question is required: choose or write an answer.",
    ),
    (
        "consultation_error_option",
        "the answer is not one of those offered: choose one from the list.",
    ),
    (
        "consultation_error_too_many",
        "choose at most {max} answers.",
    ),
    (
        "consultation_error_scale",
        "choose a value from {min} to {max}.",
    ),
    (
        "consultation_error_too_long",
        "the text is longer than {max} characters: shorten it.",
    ),
    (
        "consultation_error_control",
        "the text holds a character that is not allowed ({char}): remove it.",
    ),
    (
        "consultation_error_empty",
        "you answered no question: answer at least one.",
    ),
    ("consultation_thanks_title", "Thank you for your answers"),
    (
        "consultation_thanks_text",
        "Your answers have been recorded. The aggregated results will be published on this portal when the consultation closes.",
    ),
    (
        "consultation_not_open",
        "The consultation is not open yet: come back when it starts.",
    ),
    (
        "consultation_closed",
        "The consultation is closed and takes no more answers.",
    ),
    (
        "consultation_link_used",
        "An answer has already been sent with this personal link: each partner organisation answers once.",
    ),
    (
        "consultation_results_link",
        "See the results of the consultation",
    ),
    (
        "consultation_results_title",
        "Results of the consultation: {title}",
    ),
    ("consultation_results_crumb", "Results of the consultation"),
    (
        "consultation_results_note",
        "For each question, the number of answers from partners and from citizens, counted separately.",
    ),
    (
        "consultation_respondents_partners",
        "Partner organisations that answered",
    ),
    ("consultation_respondents_citizens", "Citizens who answered"),
    ("consultation_caption", "Answers to question"),
    ("consultation_col_answer", "Answer"),
    ("consultation_col_partners", "Partners"),
    ("consultation_col_citizens", "Citizens"),
    ("consultation_mean", "Mean"),
    ("consultation_median", "Median"),
    ("consultation_text_answers", "Free answers"),
    (
        "consultation_texts_not_public",
        "The texts are not published, to protect privacy.",
    ),
    ("home_consultations_title", "Closed consultations"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_english_text_translates_an_italian_one() {
        let italian: BTreeMap<_, _> = ITALIAN.iter().copied().collect();
        for (key, _) in ENGLISH {
            assert!(italian.contains_key(key), "'{key}' has no Italian text");
        }
        assert_eq!(italian.len(), ITALIAN.len(), "an Italian key is repeated");
    }

    #[test]
    fn english_falls_back_to_italian() {
        let english = Texts::new(Language::En);
        assert_eq!(english.get("nav_data"), "Open data");
        assert_eq!(english.get("owner_line"), "Città a Rete Madonie-Termini");
        assert_eq!(Texts::new(Language::It).get("nav_data"), "Dati aperti");
        assert_eq!(english.get("state_unknown_name"), "state_unknown_name");
        assert_eq!(
            english.fill("review_of", &[("date", "1 March 2027")]),
            "Review of 1 March 2027"
        );
    }
}
