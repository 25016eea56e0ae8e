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
    loading: 'Loading…', errorPrefix: 'Something went wrong.',
    errors: {
      network: 'The server cannot be reached. Check your connection and try again.',
      401: 'The login, password or code is not accepted. Check them and try again.',
      sessionEnded: 'Your session has ended. Please log in again.',
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
    loading: 'Chargement…', errorPrefix: 'Une erreur est survenue.',
    errors: {
      network: 'Le serveur est injoignable. Vérifiez votre connexion et réessayez.',
      401: 'L’identifiant, le mot de passe ou le code n’est pas accepté. Vérifiez-les et réessayez.',
      sessionEnded: 'Votre session est terminée. Veuillez vous reconnecter.',
      403: 'Cette action n’est pas autorisée.',
      404: 'Introuvable.',
      409: 'Cet identifiant est déjà pris : choisissez-en un autre. Votre code d’activation reste valable.',
      429: (s) => `Trop de tentatives. Attendez ${s ?? 'quelques'} secondes et réessayez.`,
      503: 'Le service est momentanément indisponible. Réessayez dans un instant.',
    },
  },
};

function initialLanguage() {
  const saved = localStorage.getItem(LANGUAGE_KEY);
  if (saved in STRINGS) return saved;
  for (const language of navigator.languages ?? [navigator.language]) {
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

const locale = () => (language === 'fr' ? 'fr-FR' : 'en-GB');
export const formatDate = (iso) => (iso ? new Intl.DateTimeFormat(locale(), { dateStyle: 'medium' }).format(new Date(iso)) : '');
export const formatDateTime = (value) => (value ? new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(typeof value === 'number' ? new Date(value * 1000) : new Date(value)) : '');
export const formatNumber = (n) => new Intl.NumberFormat(locale(), { maximumFractionDigits: 4 }).format(n);
