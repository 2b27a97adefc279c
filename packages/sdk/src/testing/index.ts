export { internalsOf, servicesOf } from './services.js';
export { HttpApi } from '../transport/http.js';
