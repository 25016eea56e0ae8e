// French and English: the browser's language by default, the reader's choice remembered in
// localStorage (the only thing the portal keeps there).
const LANGUAGE_KEY = 'medvault.language';

const STRINGS = {
  en: {
    app: 'medvault', skip: 'Skip to content', switchLanguage: 'Français', switchLanguageLabel: 'Lire en français',
    navResults: 'My results', navAccess: 'Who opened my record', navSecurity: 'Sessions and security', logout: 'Log out',
    loginTitle: 'Log in', login: 'Login', password: 'Password', continue: 'Continue', loginButton: 'Log in',
    noAccount: 'First visit? Activate your account with the code on your lab receipt.', activateLink: 'Activate my account',
    haveAccount: 'Already have an account?', loginLink: 'Log in',
    secondFactorTitle: 'Second step', totpCode: 'Code from your authenticator app (6 digits)',
    recoveryCode: 'Recovery code', useRecovery: 'Use a recovery code instead', useTotp: 'Use my authenticator app instead',
    activateTitle: 'Activate my account', activationCode: 'Activation code (on your lab receipt)',
    activationCodeHint: 'Four groups of four letters and digits, for example 1B5X-DDSE-X1YF-VG3D.',
    chooseLogin: 'Choose a login', loginHint: '3 to 64 characters: lowercase letters, digits, . _ @ -',
    name: 'Your name', choosePassword: 'Choose a password',
    passwordRules: 'At least 12 characters, not easy to guess, and not containing your login. A few unrelated words make a passphrase that is long and easy to remember.',
    confirmPassword: 'Type the password again', passwordsDiffer: 'The two passwords are not the same.',
    activate: 'Activate',
    enrollTitle: 'Protect your account with a second step',
    enrollIntro: 'Scan this QR code with an authenticator app (for example FreeOTP, Aegis or Google Authenticator), or type the secret into it. Then enter the 6-digit code it shows.',
    secret: 'Secret to type', qrLabel: 'QR code for your authenticator app', confirm: 'Confirm',
    recoveryTitle: 'Your recovery codes',
    recoveryIntro: 'Each code lets you log in once if you lose your phone. Write them down or print them now and keep them somewhere safe: they are shown only this once.',
    recoverySaved: 'I have saved my codes',
    resultsTitle: 'My results', noResults: 'You have no results yet.', more: 'Show older results',
    abnormal: (n) => (n === 1 ? '1 value out of range' : `${n} values out of range`), allNormal: 'All values in range',
    status: { final: 'Final', preliminary: 'Preliminary', amended: 'Amended', corrected: 'Corrected', registered: 'Registered', partial: 'Partial', cancelled: 'Cancelled', 'entered-in-error': 'Entered in error', appended: 'Appended' },
    reportTitle: 'Report', back: 'Back to my results', test: 'Test', value: 'Result', range: 'Reference range', flag: 'Flag',
    flags: { H: 'High', L: 'Low', HH: 'Critically high', LL: 'Critically low', A: 'Abnormal', AA: 'Critically abnormal', N: 'Normal' },
    collected: 'Sample taken', issued: 'Issued', downloadPdf: 'Download the report (PDF)',
    trends: 'Trends', trendOf: (name) => `Trend of ${name}`, trendSummary: (n, first, last) => `${n} results from ${first} to ${last}`,
    accessTitle: 'Who opened my record', accessIntro: 'Every time someone reads or changes your record, it is written in a log that cannot be altered. The most recent first.',
    when: 'When', who: 'Who', what: 'What', why: 'Why', breakGlass: 'Emergency access (break-the-glass)',
    actions: { C: 'created', R: 'read', U: 'changed', D: 'deleted', E: 'searched' },
    purposes: { PATRQT: 'at your request', TREAT: 'care', ETREAT: 'emergency', HOPERAT: 'operations', HPAYMT: 'billing' },
    roles: { patient: 'you', clinician: 'clinician', lab_technician: 'lab technician', administrator: 'administrator', auditor: 'auditor', integration: 'connected system', operator: 'server operator' },
    noAccess: 'No access recorded yet.',
    securityTitle: 'Sessions and security', sessions: 'Your sessions', started: 'Started', lastSeen: 'Last active', device: 'Device',
    thisSession: 'this session', endSession: 'End', endSessionLabel: (d) => `End the session started ${d}`,
    logoutEverywhere: 'Log out everywhere', factors: 'Second step', factorTotp: 'Authenticator app', factorPasskey: 'Passkey',
    added: 'added', recoveryLeft: (n) => `${n} unused recovery codes left.`, newRecovery: 'Get new recovery codes',
    stepUpTitle: 'Confirm it is you', stepUpIntro: 'Enter a code from your authenticator app to continue.',
    staffFirstVisit: 'Staff, first visit? Enroll with the one-time code your administrator gave you.', enrollLink: 'Enroll my staff account',
    usePasskey: 'Use my passkey instead', passkeyIntro: 'Confirm with the passkey of this account (your device will ask for your fingerprint, face or PIN).', passkeyButton: 'Log in with my passkey',
    staffEnrollTitle: 'Enroll my staff account', enrollmentCode: 'Enrollment code (from your administrator)',
    chooseFactorTitle: 'Choose your second step', chooseFactorIntro: 'Each login asks for your password and then for this second step.',
    passkeyEnrollTitle: 'Create a passkey', passkeyEnrollIntro: 'Your device keeps the passkey and asks for your fingerprint, face or PIN to use it.', passkeyCreate: 'Create my passkey',
    addPasskey: 'Add a passkey', removeFactor: 'Remove', removeFactorLabel: (what, date) => `Remove the ${what} added ${date}`,
    passkeyAdded: 'The passkey is added.', factorRemoved: 'The second step is removed.',
    stepUpPasskeyIntro: 'Confirm with your passkey to continue.', stepUpEitherIntro: 'Confirm with your passkey or with a code from your authenticator app to continue.',
    stepUpPasskey: 'Confirm with my passkey',
    loading: 'Loading…', errorPrefix: 'Something went wrong.',
    // The auth API's stable error codes (src/api/auth_errors.h), each worded here and in French.
    serverErrors: {
      invalid_request: 'The request was not understood. Reload the page and try again.',
      not_allowed: 'This is not allowed.',
      not_found: 'Not found.',
      already_exists: 'This exists already.',
      conflict: 'This changed in the meantime. Reload the page and try again.',
      service_unavailable: 'The service is busy. Try again in a moment.',
      internal_error: 'Something went wrong on the server. Try again; if it persists, contact your laboratory.',
      too_many_attempts: (s) => `Too many attempts. Wait ${s ?? 'a few'} seconds and try again.`,
      request_too_large: 'What you typed is too long.',
      request_not_json: 'The request was not understood. Reload the page and try again.',
      request_not_object: 'The request was not understood. Reload the page and try again.',
      request_member_not_string: 'The request was not understood. Reload the page and try again.',
      request_unknown_member: 'The request was not understood. Reload the page and try again.',
      request_member_too_long: 'One of the fields is too long.',
      request_duplicate_member: 'The request was not understood. Reload the page and try again.',
      request_missing_member: 'A required field is missing.',
      request_not_form: 'The request was not understood.',
      no_session: 'Your session has ended. Please log in again.',
      csrf_required: 'This page is out of date. Reload it and try again.',
      step_up_required: 'Confirm it is you first: this action needs a second step from the last 5 minutes.',
      session_not_found: 'This session does not exist any more.',
      account_suspended: 'This account is suspended for safety. Your laboratory or an administrator can reinstate it.',
      login_failed: 'The login or the password is not accepted. After several failures, wait a few minutes before trying again.',
      second_factor_refused: 'The code was not accepted. Use the current code of your app (each code works once), or log in again if more than 5 minutes have passed.',
      code_not_accepted: 'This code was not accepted: check it, or ask for a new one if it has expired or was used.',
      name_invalid: 'Type your name (at most 128 characters).',
      login_taken: 'This login is taken: choose another one. Your activation code stays valid.',
      password_too_short: 'The password is too short: use at least 12 characters. Several unrelated words make a passphrase that is long and easy to remember.',
      password_too_long: 'The password is too long: use at most 256 characters.',
      password_not_text: 'The password contains a character that cannot be used. Use letters, digits, spaces and symbols.',
      password_control_character: 'The password contains a tab or a line break; use letters, digits, spaces and symbols only.',
      password_contains_name: 'The password contains your name or your login. Choose words that have nothing to do with you.',
      password_too_common: 'The password is too common: attackers try it first. Add more words that are unrelated to each other.',
      password_too_weak: 'The password is too easy to guess: avoid dates, sequences (1234, abcd), keyboard patterns and repeated characters.',
      passkey_required: 'This account must use a passkey as its second step.',
      no_passkey: 'This account has no passkey: use another second step.',
      passkey_refused: 'The passkey was not accepted. Try again, or use another second step.',
      passkey_not_registered: 'The passkey was not saved. Try again.',
      passkey_already_registered: 'This passkey is saved already.',
      ceremony_not_started: 'This step has expired. Start it again.',
      totp_change_refused: 'The code was not accepted: type the current code of the new authenticator app.',
      factor_not_found: 'This second step does not exist any more. Reload the page.',
      last_second_factor: 'This is your last second step: add another one before removing it.',
      last_passkey: 'This is your last passkey: add another one before removing it.',
      administrators_only: 'Only administrators can do this.',
      account_not_found: 'No account has this login.',
      own_account: 'Another administrator must do this for your own account.',
      grant_not_found: 'This request does not exist any more. Reload the page.',
    },
    errors: {
      network: 'The server cannot be reached. Check your connection and try again.',
      401: 'The login, password or code is not accepted. Check them and try again.',
      sessionEnded: 'Your session has ended. Please log in again.',
      passkeyCancelled: 'The passkey step was cancelled or took too long. Try again when you are ready.',
      passkeyOnDevice: 'This device already holds a passkey for your account: use another device, or keep the one you have.',
      403: 'This action is not allowed.',
      404: 'Not found.',
      409: 'This login is taken: choose another one. Your activation code stays valid.',
      429: (s) => `Too many attempts. Wait ${s ?? 'a few'} seconds and try again.`,
      503: 'The service is temporarily unavailable. Try again in a moment.',
    },
  },
  fr: {
    app: 'medvault', skip: 'Aller au contenu', switchLanguage: 'English', switchLanguageLabel: 'Read in English',
    navResults: 'Mes résultats', navAccess: 'Qui a consulté mon dossier', navSecurity: 'Sessions et sécurité', logout: 'Me déconnecter',
    loginTitle: 'Connexion', login: 'Identifiant', password: 'Mot de passe', continue: 'Continuer', loginButton: 'Me connecter',
    noAccount: 'Première visite ? Activez votre compte avec le code de votre reçu de laboratoire.', activateLink: 'Activer mon compte',
    haveAccount: 'Vous avez déjà un compte ?', loginLink: 'Me connecter',
    secondFactorTitle: 'Deuxième étape', totpCode: 'Code de votre application d’authentification (6 chiffres)',
    recoveryCode: 'Code de secours', useRecovery: 'Utiliser plutôt un code de secours', useTotp: 'Utiliser plutôt mon application d’authentification',
    activateTitle: 'Activer mon compte', activationCode: 'Code d’activation (sur votre reçu de laboratoire)',
    activationCodeHint: 'Quatre groupes de quatre lettres et chiffres, par exemple 1B5X-DDSE-X1YF-VG3D.',
    chooseLogin: 'Choisissez un identifiant', loginHint: '3 à 64 caractères : lettres minuscules, chiffres, . _ @ -',
    name: 'Votre nom', choosePassword: 'Choisissez un mot de passe',
    passwordRules: 'Au moins 12 caractères, difficile à deviner, sans votre identifiant. Quelques mots sans rapport entre eux font une phrase de passe longue et facile à retenir.',
    confirmPassword: 'Saisissez à nouveau le mot de passe', passwordsDiffer: 'Les deux mots de passe ne sont pas identiques.',
    activate: 'Activer',
    enrollTitle: 'Protégez votre compte par une deuxième étape',
    enrollIntro: 'Scannez ce QR code avec une application d’authentification (par exemple FreeOTP, Aegis ou Google Authenticator), ou saisissez-y le secret. Entrez ensuite le code à 6 chiffres qu’elle affiche.',
    secret: 'Secret à saisir', qrLabel: 'QR code pour votre application d’authentification', confirm: 'Confirmer',
    recoveryTitle: 'Vos codes de secours',
    recoveryIntro: 'Chaque code permet de vous connecter une fois si vous perdez votre téléphone. Notez-les ou imprimez-les maintenant et gardez-les en lieu sûr : ils ne sont affichés qu’une seule fois.',
    recoverySaved: 'J’ai conservé mes codes',
    resultsTitle: 'Mes résultats', noResults: 'Vous n’avez pas encore de résultats.', more: 'Afficher les résultats plus anciens',
    abnormal: (n) => (n === 1 ? '1 valeur hors normes' : `${n} valeurs hors normes`), allNormal: 'Toutes les valeurs dans les normes',
    status: { final: 'Définitif', preliminary: 'Provisoire', amended: 'Modifié', corrected: 'Corrigé', registered: 'Enregistré', partial: 'Partiel', cancelled: 'Annulé', 'entered-in-error': 'Saisi par erreur', appended: 'Complété' },
    reportTitle: 'Compte rendu', back: 'Retour à mes résultats', test: 'Analyse', value: 'Résultat', range: 'Valeurs de référence', flag: 'Indicateur',
    flags: { H: 'Élevé', L: 'Bas', HH: 'Très élevé', LL: 'Très bas', A: 'Anormal', AA: 'Très anormal', N: 'Normal' },
    collected: 'Prélèvement', issued: 'Publié', downloadPdf: 'Télécharger le compte rendu (PDF)',
    trends: 'Évolution', trendOf: (name) => `Évolution : ${name}`, trendSummary: (n, first, last) => `${n} résultats du ${first} au ${last}`,
    accessTitle: 'Qui a consulté mon dossier', accessIntro: 'Chaque lecture ou modification de votre dossier est inscrite dans un journal infalsifiable. Les plus récentes en premier.',
    when: 'Quand', who: 'Qui', what: 'Quoi', why: 'Pourquoi', breakGlass: 'Accès d’urgence (bris de glace)',
    actions: { C: 'création', R: 'lecture', U: 'modification', D: 'suppression', E: 'recherche' },
    purposes: { PATRQT: 'à votre demande', TREAT: 'soins', ETREAT: 'urgence', HOPERAT: 'fonctionnement', HPAYMT: 'facturation' },
    roles: { patient: 'vous', clinician: 'soignant', lab_technician: 'technicien de laboratoire', administrator: 'administrateur', auditor: 'auditeur', integration: 'système connecté', operator: 'opérateur du serveur' },
    noAccess: 'Aucun accès enregistré pour l’instant.',
    securityTitle: 'Sessions et sécurité', sessions: 'Vos sessions', started: 'Ouverte', lastSeen: 'Dernière activité', device: 'Appareil',
    thisSession: 'cette session', endSession: 'Fermer', endSessionLabel: (d) => `Fermer la session ouverte le ${d}`,
    logoutEverywhere: 'Me déconnecter partout', factors: 'Deuxième étape', factorTotp: 'Application d’authentification', factorPasskey: 'Clé d’accès',
    added: 'ajoutée le', recoveryLeft: (n) => `Il vous reste ${n} codes de secours inutilisés.`, newRecovery: 'Obtenir de nouveaux codes de secours',
    stepUpTitle: 'Confirmez que c’est vous', stepUpIntro: 'Entrez un code de votre application d’authentification pour continuer.',
    staffFirstVisit: 'Personnel, première visite ? Enrôlez-vous avec le code à usage unique donné par votre administrateur.', enrollLink: 'Enrôler mon compte professionnel',
    usePasskey: 'Utiliser plutôt ma clé d’accès', passkeyIntro: 'Confirmez avec la clé d’accès de ce compte (votre appareil demandera votre empreinte, votre visage ou votre code).', passkeyButton: 'Me connecter avec ma clé d’accès',
    staffEnrollTitle: 'Enrôler mon compte professionnel', enrollmentCode: 'Code d’enrôlement (donné par votre administrateur)',
    chooseFactorTitle: 'Choisissez votre deuxième étape', chooseFactorIntro: 'Chaque connexion demande votre mot de passe puis cette deuxième étape.',
    passkeyEnrollTitle: 'Créer une clé d’accès', passkeyEnrollIntro: 'Votre appareil garde la clé d’accès et demande votre empreinte, votre visage ou votre code pour l’utiliser.', passkeyCreate: 'Créer ma clé d’accès',
    addPasskey: 'Ajouter une clé d’accès', removeFactor: 'Retirer', removeFactorLabel: (what, date) => `Retirer : ${what}, ajoutée le ${date}`,
    passkeyAdded: 'La clé d’accès est ajoutée.', factorRemoved: 'La deuxième étape est retirée.',
    stepUpPasskeyIntro: 'Confirmez avec votre clé d’accès pour continuer.', stepUpEitherIntro: 'Confirmez avec votre clé d’accès ou avec un code de votre application d’authentification pour continuer.',
    stepUpPasskey: 'Confirmer avec ma clé d’accès',
    loading: 'Chargement…', errorPrefix: 'Une erreur est survenue.',
    serverErrors: {
      invalid_request: 'La demande n’a pas été comprise. Rechargez la page et réessayez.',
      not_allowed: 'Ce n’est pas autorisé.',
      not_found: 'Introuvable.',
      already_exists: 'Cela existe déjà.',
      conflict: 'Cela a changé entre-temps. Rechargez la page et réessayez.',
      service_unavailable: 'Le service est occupé. Réessayez dans un instant.',
      internal_error: 'Une erreur est survenue sur le serveur. Réessayez ; si elle persiste, contactez votre laboratoire.',
      too_many_attempts: (s) => `Trop de tentatives. Attendez ${s ?? 'quelques'} secondes et réessayez.`,
      request_too_large: 'Ce que vous avez saisi est trop long.',
      request_not_json: 'La demande n’a pas été comprise. Rechargez la page et réessayez.',
      request_not_object: 'La demande n’a pas été comprise. Rechargez la page et réessayez.',
      request_member_not_string: 'La demande n’a pas été comprise. Rechargez la page et réessayez.',
      request_unknown_member: 'La demande n’a pas été comprise. Rechargez la page et réessayez.',
      request_member_too_long: 'L’un des champs est trop long.',
      request_duplicate_member: 'La demande n’a pas été comprise. Rechargez la page et réessayez.',
      request_missing_member: 'Un champ obligatoire manque.',
      request_not_form: 'La demande n’a pas été comprise.',
      no_session: 'Votre session est terminée. Veuillez vous reconnecter.',
      csrf_required: 'Cette page n’est plus à jour. Rechargez-la et réessayez.',
      step_up_required: 'Confirmez d’abord que c’est vous : cette action demande une deuxième étape de moins de 5 minutes.',
      session_not_found: 'Cette session n’existe plus.',
      account_suspended: 'Ce compte est suspendu par sécurité. Votre laboratoire ou un administrateur peut le rétablir.',
      login_failed: 'L’identifiant ou le mot de passe n’est pas accepté. Après plusieurs échecs, attendez quelques minutes avant de réessayer.',
      second_factor_refused: 'Le code n’a pas été accepté. Utilisez le code actuel de votre application (chaque code ne sert qu’une fois), ou reconnectez-vous si plus de 5 minutes se sont écoulées.',
      code_not_accepted: 'Ce code n’a pas été accepté : vérifiez-le, ou demandez-en un nouveau s’il a expiré ou a déjà servi.',
      name_invalid: 'Saisissez votre nom (128 caractères au plus).',
      login_taken: 'Cet identifiant est déjà pris : choisissez-en un autre. Votre code d’activation reste valable.',
      password_too_short: 'Le mot de passe est trop court : utilisez au moins 12 caractères. Quelques mots sans rapport entre eux font une phrase de passe longue et facile à retenir.',
      password_too_long: 'Le mot de passe est trop long : utilisez 256 caractères au plus.',
      password_not_text: 'Le mot de passe contient un caractère inutilisable. Utilisez des lettres, des chiffres, des espaces et des symboles.',
      password_control_character: 'Le mot de passe contient une tabulation ou un saut de ligne ; utilisez seulement des lettres, des chiffres, des espaces et des symboles.',
      password_contains_name: 'Le mot de passe contient votre nom ou votre identifiant. Choisissez des mots qui n’ont rien à voir avec vous.',
      password_too_common: 'Le mot de passe est trop courant : les attaquants l’essaient en premier. Ajoutez d’autres mots sans rapport entre eux.',
      password_too_weak: 'Le mot de passe est trop facile à deviner : évitez les dates, les suites (1234, abcd), les motifs du clavier (azerty) et les caractères répétés.',
      passkey_required: 'Ce compte doit utiliser une clé d’accès comme deuxième étape.',
      no_passkey: 'Ce compte n’a pas de clé d’accès : utilisez une autre deuxième étape.',
      passkey_refused: 'La clé d’accès n’a pas été acceptée. Réessayez, ou utilisez une autre deuxième étape.',
      passkey_not_registered: 'La clé d’accès n’a pas été enregistrée. Réessayez.',
      passkey_already_registered: 'Cette clé d’accès est déjà enregistrée.',
      ceremony_not_started: 'Cette étape a expiré. Recommencez-la.',
      totp_change_refused: 'Le code n’a pas été accepté : saisissez le code actuel de la nouvelle application d’authentification.',
      factor_not_found: 'Cette deuxième étape n’existe plus. Rechargez la page.',
      last_second_factor: 'C’est votre dernière deuxième étape : ajoutez-en une autre avant de la retirer.',
      last_passkey: 'C’est votre dernière clé d’accès : ajoutez-en une autre avant de la retirer.',
      administrators_only: 'Seuls les administrateurs peuvent le faire.',
      account_not_found: 'Aucun compte n’a cet identifiant.',
      own_account: 'Un autre administrateur doit le faire pour votre propre compte.',
      grant_not_found: 'Cette demande n’existe plus. Rechargez la page.',
    },
    errors: {
      network: 'Le serveur est injoignable. Vérifiez votre connexion et réessayez.',
      401: 'L’identifiant, le mot de passe ou le code n’est pas accepté. Vérifiez-les et réessayez.',
      sessionEnded: 'Votre session est terminée. Veuillez vous reconnecter.',
      passkeyCancelled: 'L’étape de la clé d’accès a été annulée ou a pris trop de temps. Réessayez quand vous êtes prêt.',
      passkeyOnDevice: 'Cet appareil a déjà une clé d’accès pour votre compte : utilisez un autre appareil, ou gardez celle que vous avez.',
      403: 'Cette action n’est pas autorisée.',
      404: 'Introuvable.',
      409: 'Cet identifiant est déjà pris : choisissez-en un autre. Votre code d’activation reste valable.',
      429: (s) => `Trop de tentatives. Attendez ${s ?? 'quelques'} secondes et réessayez.`,
      503: 'Le service est momentanément indisponible. Réessayez dans un instant.',
    },
  },
};

// Outside a browser (the node test of the server's error codes) there is no storage and no
// navigator: English.
function initialLanguage() {
  const saved = globalThis.localStorage?.getItem(LANGUAGE_KEY);
  if (saved in STRINGS) return saved;
  for (const language of globalThis.navigator?.languages ?? [globalThis.navigator?.language]) {
    const base = String(language).slice(0, 2).toLowerCase();
    if (base in STRINGS) return base;
  }
  return 'en';
}

let language = initialLanguage();

export function currentLanguage() { return language; }

export function setLanguage(next) {
  language = next in STRINGS ? next : 'en';
  localStorage.setItem(LANGUAGE_KEY, language);
  document.documentElement.lang = language;
}

export function t(key) { return STRINGS[language][key]; }

// The generic codes of the auth API (src/api/auth_errors.h): their English diagnostics says
// more than a sentence could, so the page shows it rather than the translation.
export const GENERIC_SERVER_ERRORS = new Set(['invalid_request', 'not_allowed', 'not_found', 'already_exists', 'conflict']);

// The sentence for one of the auth API's stable error codes in `lang`, null when none;
// `retryAfter` fills the throttling one.
export function serverErrorText(code, lang = language, retryAfter = null) {
  const text = Object.hasOwn(STRINGS[lang].serverErrors, code) ? STRINGS[lang].serverErrors[code] : null;
  return typeof text === 'function' ? text(retryAfter) : text;
}

// The strings of a part of the page loaded later (the staff pages): {en: {...}, fr: {...}}.
export function addStrings(more) {
  for (const [lang, strings] of Object.entries(more)) Object.assign(STRINGS[lang], strings);
}

const locale = () => (language === 'fr' ? 'fr-FR' : 'en-GB');
export const formatDate = (iso) => (iso ? new Intl.DateTimeFormat(locale(), { dateStyle: 'medium' }).format(new Date(iso)) : '');
export const formatDateTime = (value) => (value ? new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(typeof value === 'number' ? new Date(value * 1000) : new Date(value)) : '');
export const formatNumber = (n) => new Intl.NumberFormat(locale(), { maximumFractionDigits: 4 }).format(n);
