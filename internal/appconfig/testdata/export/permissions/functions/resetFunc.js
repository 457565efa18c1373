exports = () => ({ status: 'fail' });
