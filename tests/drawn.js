// "Drawn": true once Streamlit has finished running the page (it marks its script state on the app
// element for its own tests), a title is shown, nothing says "Running", and every visible chart is on
// screen: the dashboard's chart pictures loaded, any Vega-Lite chart drawn. Used by the browser tests
// and the browser speed benchmark (tests/devserver.py: DRAWN).
() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    const title = document.querySelector('[data-testid="stMainBlockContainer"] h1');
    if (!title || title.offsetParent === null) return false;
    if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
    const pictures = [...document.querySelectorAll('figure.cypp-chart img')].filter(i => i.offsetParent !== null);
    if (!pictures.every(i => i.complete && i.naturalWidth > 0)) return false;
    return [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
        .filter(c => c.offsetParent !== null).every(c => c.querySelector('canvas, svg'));
}
