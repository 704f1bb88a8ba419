// Starts the NHS.UK design system's components (header menu, radios). The pages work without it.
import { initAll } from '/assets/nhsuk-frontend.min.js';
initAll();
